// Tenant changes while running, on PostgreSQL: two replicas serve the tenants table; `3cx-gateway
// tenants add | rotate-key | remove` (the real command's main) changes it, and both replicas follow
// within seconds, without a restart (the command NOTIFYs; each replica also polls).
import t from 'tap'
import { batched } from '../batch-tap.js'
import { Writable } from 'node:stream'
import pg from 'pg'
import { loadConfig } from '../../src/config.js'
import { openTenantsTable } from '../../src/services.js'
import { definitionsFromTable } from '../../src/tenants/tenants-command.js'
import { startTenantGateway, type RunningTenantGateway } from '../../src/tenants/tenant-gateway.js'
import { tenantsTableSource } from '../../src/tenants/tenant-reload.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { until } from '../pbx/pbx-fixture.js'
import { printedKey, run } from './cli-run.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

// Once (1 of 6 whole-suite runs, 2026-12-07) this file passed every assertion and then did not exit until
// tap's timeout. Should it happen again, what still holds the process open is printed 20 s after the test
// (run alone: in a batch the process goes on with the next file).
if (!batched()) t.teardown(() => {
  setTimeout(() => { console.error('tenant-reload-pg: still running 20 s after the test; active resources:', process.getActiveResourcesInfo().join(', ')) }, 20_000).unref()
})

t.test('add, rotate-key and remove reach every running replica within seconds', async (t) => {
  const url = await testDatabase(t)
  const sim = await createSimulator()
  t.teardown(() => sim.close())
  const env = { DATABASE_URL: url }
  const add = async (id: string): Promise<string> => {
    const r = await run(['tenants', 'add', id, '--pbx-url', sim.url, '--client-id', '599', '--client-secret', 'sim-secret'], env)
    t.equal(r.code, 0, r.err)
    return printedKey(r.out)
  }
  const keys = { acme: await add('acme'), beta: await add('beta') }

  const start = async (replica: string): Promise<RunningTenantGateway> => {
    const table = await openTenantsTable(url, false)
    const definitions = definitionsFromTable(await table.list())
    const config = loadConfig({ DATABASE_URL: url, DATA_DIR: t.testdir({}), PORT: '0', HOST: '127.0.0.1', RECORDINGS_SOURCE: 'off' }, { serving: false })
    // Polling every 60 s here: whatever arrives sooner came by the notification.
    const gw = await startTenantGateway(config, definitions, { logStream: quiet(), replica, source: tenantsTableSource(table, 60_000), shutdownTimeoutMs: 3000, spread: { everyMs: 200, settleMs: 400, minHoldMs: 500, orphanGraceMs: 300 } })
    t.teardown(() => gw.close())
    return gw
  }
  const gws = [await start('replica-a'), await start('replica-b')]
  const status = async (gw: RunningTenantGateway, key: string, path = '/pbx.calls.get'): Promise<number> => (await fetch(`${gw.url}${path}`, { headers: { 'x-api-key': key } })).status
  const onEvery = async (what: string, check: (gw: RunningTenantGateway) => Promise<boolean>): Promise<number> => {
    const t0 = Date.now()
    // Generous on a loaded machine; the comments below report how long it took.
    await until(async () => (await Promise.all(gws.map(check))).every(Boolean), 20_000, what)
    return Date.now() - t0
  }
  for (const gw of gws) t.equal(await status(gw, keys.acme), 200, 'the tenants of the table are served')
  t.equal(await status(gws[0], 'no-such-key-0123456789abcdef'), 401)

  // add: the new key works on both replicas, the spread gives the new stream to one of them.
  const gamma = await add('gamma')
  // Waiting on what the replicas know, not on requests: failed attempts would be throttled (429).
  const knows = (gw: RunningTenantGateway, key: string): boolean => gw.tenants.get('gamma')?.app.apiKeys.match(key) != null
  const added = await onEvery('gamma served on every replica', async (gw) => knows(gw, gamma))
  for (const gw of gws) t.equal(await status(gw, gamma), 200, 'the new tenant\'s key works')
  t.comment(`gamma's key worked on both replicas ${added} ms after \`tenants add\` returned`)
  await until(() => gws.filter((gw) => gw.tenants.get('gamma')?.services.stream()?.role === 'holder').length === 1, 20_000, 'one replica holding gamma\'s stream')
  t.equal(await status(gws[1], keys.beta), 200, 'the other tenants are untouched')

  // rotate-key: the new key works, and wherever it does the old one is already refused.
  const rotated = await run(['tenants', 'rotate-key', 'gamma'], env)
  t.equal(rotated.code, 0, rotated.err)
  const fresh = printedKey(rotated.out)
  const took = await onEvery('the new key known on every replica', async (gw) => knows(gw, fresh))
  for (const gw of gws) t.equal(await status(gw, fresh), 200, 'the new key works')
  t.comment(`the rotated key worked on both replicas ${took} ms after \`tenants rotate-key\` returned`)
  for (const gw of gws) t.equal(await status(gw, gamma), 401, 'the old key is refused')
  t.equal(await status(gws[0], fresh, '/t/gamma/pbx.calls.get'), 200, 'its prefix too')

  // remove: 404 UNKNOWN_TENANT on its prefix, its key refused, its stream lease given back.
  const removed = await run(['tenants', 'remove', 'gamma'], env)
  t.equal(removed.code, 0, removed.err)
  const gone = await onEvery('gamma gone from every replica', async (gw) => !gw.tenants.has('gamma'))
  t.comment(`gamma was out of both replicas' routing ${gone} ms after \`tenants remove\` returned`)
  for (const gw of gws) {
    const res = await fetch(`${gw.url}/t/gamma/pbx.calls.get`, { headers: { 'x-api-key': fresh } })
    t.equal(res.status, 404)
    t.match(await res.json(), { error: { code: 'UNKNOWN_TENANT' } })
    t.equal(await status(gw, fresh), 401, 'its key is nobody\'s')
  }
  const db = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(async () => { await db.end() })
  // Out of routing first, then stopped: the lease is given back once its state is written.
  const free = async (): Promise<boolean> => (await db.query<{ free: boolean }>("SELECT expires_at <= clock_timestamp() AS free FROM tenant_gamma.stream_leases WHERE pbx_id = 'gamma'")).rows[0]?.free === true
  const t0 = Date.now()
  await until(free, 20_000, 'gamma\'s stream lease given back')
  t.pass(`its stream lease is given back (${Date.now() - t0} ms after that)`)
  for (const gw of gws) t.equal(await status(gw, keys.acme), 200, 'acme is still served')
  const ready = await (await fetch(`${gws[0].url}/readyz`)).json() as { tenants: Record<string, unknown> }
  t.same(Object.keys(ready.tenants).sort(), ['acme', 'beta'], '/readyz lists the tenants served')
})
