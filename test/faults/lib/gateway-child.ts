// A whole gateway in its own process, for the fault suite (which kills it with SIGKILL): the
// configuration comes from the environment, exactly as in production; a short reconnect backoff
// keeps the tests quick. Prints `ready <url>` once listening. Over IPC it answers `{ type: 'mem' }`
// with the heap in use after a full GC (run it with --expose-gc). Exits on SIGTERM like the real one.
import { loadConfig } from '../../../src/config.js'
import { startGateway } from '../../../src/server.js'

const config = loadConfig(process.env)
const gateway = await startGateway(config, {
  logStream: process.stderr,
  pbx: { reconnect: { baseMs: 50, maxMs: 400 }, retry: { retries: 2 } },
  shutdownTimeoutMs: 3000
})
gateway.installSignalHandlers()

process.on('message', (m: { type?: string }) => {
  if (m.type !== 'mem') return
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const mem = process.memoryUsage()
  process.send?.({ type: 'mem', heapUsed: mem.heapUsed, rss: mem.rss })
})
process.stdout.write(`ready ${gateway.url}\n`)
