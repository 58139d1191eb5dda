// A whole gateway in its own process, for the fault suite (which kills it with SIGKILL): the
// configuration comes from the environment, exactly as in production; a short reconnect backoff
// keeps the tests quick. Prints `ready <url>` once listening. Over IPC it answers `{ type: 'mem' }`
// with the heap in use after a full GC (run it with --expose-gc). Exits on SIGTERM like the real one.
import { loadConfig } from '../../../src/config.js'
import { startGateway } from '../../../src/server.js'
import { loadTenantsFile } from '../../../src/tenants/tenants-file.js'
import { startTenantGateway } from '../../../src/tenants/tenant-gateway.js'

const config = loadConfig(process.env)
const common = {
  logStream: process.stderr,
  pbx: { reconnect: { baseMs: 50, maxMs: 400 }, retry: { retries: 2 } },
  shutdownTimeoutMs: 3000
}
// With TENANTS_FILE: the several-PBX gateway (test/replicas/tenant-faults.test.ts).
const gateway = config.tenantsFile !== null ? await startTenantGateway(config, loadTenantsFile(config.tenantsFile), common) : await startGateway(config, common)
gateway.installSignalHandlers()

process.on('message', (m: { type?: string, pages?: number | null }) => {
  // A full disk, for real: SQLite refuses (SQLITE_FULL) every write that needs a page past the cap.
  if (m.type === 'disk-full' && 'services' in gateway) {
    const db = gateway.services.db
    if (m.pages === null) db.pragma('max_page_count = 1073741823')
    else {
      db.pragma('wal_checkpoint(TRUNCATE)')
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
    }
    process.send?.({ type: 'disk-full', pages: db.pragma('max_page_count', { simple: true }) })
    return
  }
  if (m.type !== 'mem') return
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const mem = process.memoryUsage()
  process.send?.({ type: 'mem', heapUsed: mem.heapUsed, rss: mem.rss })
})
process.stdout.write(`ready ${gateway.url}\n`)
