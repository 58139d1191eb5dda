// A whole gateway in its own process, for the fault suite (which kills it with SIGKILL): the
// configuration comes from the environment, exactly as in production; a short reconnect backoff
// keeps the tests quick. Prints `ready <url>` once listening. Over IPC it answers `{ type: 'mem' }`
// with the heap in use after a full GC (run it with --expose-gc), `{ type: 'recordings-idle' }` with
// whether the recordings pipeline has nothing left to do. Exits on SIGTERM like the real one, and at
// once when its test process dies (the IPC channel closes).
import { loadConfig } from '../../../src/config.js'
import { startGateway } from '../../../src/server.js'

// Started by a test over IPC: when that test's process dies (SIGKILL, a runner's time-out) the
// channel closes, and this gateway goes too, at once; left running it would hold its streams, leases
// and database connections as an orphan (ppid 1). process-watch.test.ts checks it.
process.on('disconnect', () => { process.exit(1) })

const config = loadConfig(process.env)
const common = {
  logStream: process.stderr,
  pbx: { reconnect: { baseMs: 50, maxMs: 400 }, retry: { retries: 2 } },
  // Three quarters of it for deliveries and conversions (as 3000 was before it became the hard limit).
  shutdownTimeoutMs: 4000
}
// FAULT_RIG_SPARE=1: a spare for a restart (fault-rig.ts): the code is loaded while the gateway it
// replaces still runs; it starts on `{ type: 'go' }`, once that one has been killed.
if (process.env.FAULT_RIG_SPARE === '1') {
  process.stdout.write('loaded\n')
  await new Promise<void>((resolve) => {
    const go = (m: { type?: string }): void => { if (m.type === 'go') { process.off('message', go); resolve() } }
    process.on('message', go)
  })
}
// With TENANTS_FILE: the several-PBX gateway (test/replicas/tenant-faults.test.ts).
const gateway = config.tenantsFile !== null ? await startTenants(config.tenantsFile) : await startGateway(config, common)
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
  // Whether no recorded leg waits for its files and no conversion is pending or running.
  if (m.type === 'recordings-idle' && 'services' in gateway) {
    void (gateway.services.recordings?.idle(100) ?? Promise.resolve(true)).then((idle) => process.send?.({ type: 'recordings-idle', idle }))
    return
  }
  if (m.type !== 'mem') return
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const mem = process.memoryUsage()
  process.send?.({ type: 'mem', heapUsed: mem.heapUsed, rss: mem.rss })
})
process.stdout.write(`ready ${gateway.url}\n`)

async function startTenants (file: string): ReturnType<typeof import('../../../src/tenants/tenant-gateway.js').startTenantGateway> {
  const { loadTenantsFile } = await import('../../../src/tenants/tenants-file.js')
  const { startTenantGateway } = await import('../../../src/tenants/tenant-gateway.js')
  return await startTenantGateway(config, loadTenantsFile(file), common)
}
