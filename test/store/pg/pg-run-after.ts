// tap's `after` script (.taprc): stops the run's embedded PostgreSQL, if pg-run-before.ts started one,
// and removes the run's state file.
import { readFileSync, rmSync } from 'node:fs'
import { stateFile, type PgState } from './pg-resolve.js'

const file = stateFile(process.ppid)
let state: PgState | undefined
try { state = JSON.parse(readFileSync(file, 'utf8')) as PgState } catch { state = undefined }
rmSync(file, { force: true })

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }
const pid = state?.holderPid
if (pid !== undefined && alive(pid)) {
  process.kill(pid, 'SIGTERM')
  // The holder stops the server (a fast shutdown) and exits; wait for it, at most 15 s.
  const deadline = Date.now() + 15_000
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
}
