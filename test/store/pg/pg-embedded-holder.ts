// Keeps the run's embedded PostgreSQL alive after the `before` script has exited: started detached
// by test/store/pg/pg-run-before.ts, it reports `{ url }` or `{ error }` over IPC, then stops the
// server on SIGTERM (the `after` script) or when the tap runner (argv[2]) has gone, e.g. killed.
import { startEmbeddedPg } from './pg-embedded.js'

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
    void server.stop().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // Not a test wait: a watchdog so that a killed runner leaves no server behind.
  setInterval(() => { try { process.kill(runner, 0) } catch { stop() } }, 2000)
  send({ url: server.url })
} catch (err) {
  send({ error: err instanceof Error ? err.message : String(err) })
  process.exit(1)
}
