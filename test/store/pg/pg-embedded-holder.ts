// Keeps the run's embedded PostgreSQL alive after the `before` script has exited: started detached
// by test/store/pg/pg-run-before.ts, it reports `{ url }` or `{ error }` over IPC, then stops the
// server (and removes the run's state file) when the tap runner (argv[2]) has gone, at the run's end
// or killed, or on SIGTERM.
import { rmSync } from 'node:fs'
import { startEmbeddedPg } from './pg-embedded.js'
import { stateFile } from './pg-resolve.js'
import { processAlive } from '../../../src/process-alive.js'

const runner = Number(process.argv[2])
// With a callback, a send to a `before` script that is gone (runner killed) fails quietly; the watchdog then stops the server.
const send = (m: { url: string } | { error: string }): void => {
  if (process.connected) process.send?.(m, () => { if (process.connected) process.disconnect() })
}

try {
  const server = await startEmbeddedPg()
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    rmSync(stateFile(runner), { force: true })
    void server.stop().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // Not a test wait: how the run's end (and a killed runner) stops the server.
  setInterval(() => { if (!processAlive(runner)) stop() }, 500)
  send({ url: server.url })
} catch (err) {
  send({ error: err instanceof Error ? err.message : String(err) })
  process.exit(1)
}
