// Two tenants on one PostgreSQL database: each in its own schema (tenant_<id>, migrated on its own);
// calls, events and webhooks of one never visible to the other (two-tenants.ts).
import t from 'tap'
import pg from 'pg'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { CALLER, KEYS, api, checkIsolation, startTwoTenants } from './two-tenants.js'

t.test('PostgreSQL: two tenants, each in its own schema, see only their own calls, events and webhooks; /readyz and the console name the holder', async (t) => {
  const url = await testDatabase(t)
  const x = await startTwoTenants(t, { DATABASE_URL: url })
  await checkIsolation(t, x)
  const db = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(async () => { await db.end() })
  const schemas = (await db.query<{ s: string }>("SELECT schema_name AS s FROM information_schema.schemata WHERE schema_name LIKE 'tenant_%' ORDER BY 1")).rows.map((r) => r.s)
  t.same(schemas, ['tenant_acme', 'tenant_beta'], 'one schema per tenant')
  for (const [id, own, other] of [['acme', CALLER.acme, CALLER.beta], ['beta', CALLER.beta, CALLER.acme]] as const) {
    const payloads = (await db.query<{ p: string }>(`SELECT payload::text AS p FROM tenant_${id}.webhook_events`)).rows.map((r) => r.p).join('\n')
    t.ok(payloads.includes(own.slice(2)), `tenant_${id}.webhook_events holds ${id}'s call`)
    t.notOk(payloads.includes(other.slice(2)), `tenant_${id}.webhook_events holds nothing of the other tenant`)
    const migrations = Number((await db.query(`SELECT COUNT(*) AS n FROM tenant_${id}.schema_migrations`)).rows[0].n)
    t.ok(migrations > 0, `tenant_${id} migrated (${migrations} steps)`)
    const leases = (await db.query<{ pbx_id: string }>(`SELECT pbx_id FROM tenant_${id}.stream_leases`)).rows.map((r) => r.pbx_id)
    t.same(leases, [id], `the event stream lease of ${id} is keyed by its tenant id`)
  }
  // Which replica holds which tenant: /readyz per tenant, and each tenant's console (logged in through the front).
  const ready = JSON.parse((await api(x.gw, '/readyz')).text) as { replicas: { replica: string, holding: number }, tenants: Record<string, { stream: { role: string, pbxId: string, holder: string } }> }
  t.equal(ready.replicas.holding, 2, 'the one replica holds both tenants\' streams')
  for (const [id, key] of [['acme', KEYS.acme], ['beta', KEYS.beta]] as const) {
    t.match(ready.tenants[id].stream, { role: 'holder', pbxId: id, holder: ready.replicas.replica }, `/readyz names the replica holding ${id}`)
    const login = await fetch(`${x.gw.url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) })
    t.equal(login.status, 200)
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    const system = await (await fetch(`${x.gw.url}/console/api/system`, { headers: { cookie } })).json() as { stream?: unknown }
    t.match(system.stream, { role: 'holder', pbxId: id, holder: ready.replicas.replica }, `${id}'s console names the replica holding its stream`)
  }
  const publicTables = Number((await db.query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'webhook_events'")).rows[0].n)
  t.equal(publicTables, 0, 'nothing in the default schema')
})
