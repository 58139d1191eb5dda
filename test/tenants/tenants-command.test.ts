// `3cx-gateway tenants add|list|remove|rotate-key` on a real PostgreSQL: keys printed once and
// stored only as their SHA-256; the table's tenants served with those keys (old keys refused).
import t from 'tap'
import { Writable } from 'node:stream'
import pg from 'pg'
import { topLevelHelp } from '../../src/cli-help.js'
import { loadConfig } from '../../src/config.js'
import { openTenantsTable } from '../../src/services.js'
import { definitionsFromTable } from '../../src/tenants/tenants-command.js'
import { keyDigest } from '../../src/tenants/tenant-routing.js'
import { startTenantGateway } from '../../src/tenants/tenant-gateway.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { printedKey, run } from './cli-run.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

t.test('the tenants commands are in the help table', async (t) => {
  for (const c of ['tenants add <id>', 'tenants list', 'tenants remove <id>', 'tenants rotate-key <id>']) t.ok(topLevelHelp().includes(`3cx-gateway ${c}`), c)
})

t.test('config check reads TENANTS_FILE: its tenants without secrets, or its problems (exit 2)', async (t) => {
  const dir = t.testdir({
    'good.yaml': "tenants:\n  - id: acme\n    pbx: { url: 'https://acme.example', clientId: '599', clientSecret: '${PBX_SECRET}' }\n    keys: [{ key: '${ACME_KEY}', scope: read }]\n",
    'bad.yaml': "tenants:\n  - id: acme\n    pbx: { url: 'https://acme.example', clientId: '599', clientSecret: '${NOT_SET_ANYWHERE}' }\n    keys: [{ key: 'abcdefghijklmnopqrstuvwxyz' }]\n"
  })
  const good = await run(['config', 'check'], { TENANTS_FILE: `${dir}/good.yaml`, PBX_SECRET: 'very-secret', ACME_KEY: 'acme-key-0123456789abcdef', PBX_URL: '', GATEWAY_KEYS: '' })
  t.equal(good.code, 0, good.err)
  t.match(JSON.parse(good.out), { tenantsFile: `${dir}/good.yaml`, tenants: [{ id: 'acme', pbx: 'https://acme.example', clientId: '599', keys: ['read'], webhooks: [] }] })
  t.notOk(good.out.includes('very-secret') || good.out.includes('acme-key-0123456789abcdef'), 'no secret, no key')
  const bad = await run(['config', 'check'], { TENANTS_FILE: `${dir}/bad.yaml`, PBX_URL: '', GATEWAY_KEYS: '' })
  t.equal(bad.code, 2)
  t.match(bad.err, /bad\.yaml:3: tenants\[0\]\.pbx\.clientSecret: \$\{NOT_SET_ANYWHERE\} is not set in the environment/)
})

t.test('doctor with TENANTS_FILE and no PBX_URL: which PBX to check, exit 2', async (t) => {
  const r = await run(['doctor'], { TENANTS_FILE: '/nonexistent/tenants.yaml', PBX_URL: '' })
  t.equal(r.code, 2)
  t.match(r.err, /works on one PBX and TENANTS_FILE lists several; set PBX_URL/)
})

t.test('without DATABASE_URL: a sentence, exit 2', async (t) => {
  const r = await run(['tenants', 'list'], { DATABASE_URL: '' })
  t.equal(r.code, 2)
  t.match(r.err, /the tenants table is in PostgreSQL: set DATABASE_URL/)
})

t.test('add, list, rotate-key, remove; keys stored hashed; the table served with its keys', async (t) => {
  const url = await testDatabase(t)
  const env = { DATABASE_URL: url, ACME_SECRET: 'sim-secret' }
  const sim = await createSimulator()
  t.teardown(() => sim.close())

  const bad = await run(['tenants', 'add', 'Acme', '--pbx-url', 'ftp://x', '--client-id', 'x', '--client-secret', 's'], env)
  t.equal(bad.code, 2)
  t.match(bad.err, /"Acme" is not a tenant id/)
  const flags = await run(['tenants', 'add', 'acme', '--pbx-url', 'ftp://x', '--client-id', 'x', '--client-secret', 's', '--webhook-secret', 'nope'], env)
  t.match(flags.err, /--pbx-url: .*; --client-id: .*; --webhook-secret: secret #1 must be "whsec_"/)

  const added = await run(['tenants', 'add', 'acme', '--pbx-url', sim.url, '--client-id', '599', '--client-secret', '${ACME_SECRET}', '--webhook', 'https://crm.example/hook'], env)
  t.equal(added.code, 0, added.err)
  const first = printedKey(added.out)
  t.equal(first.length, 32, 'a 32-character key is printed')
  t.equal((await run(['tenants', 'add', 'acme', '--pbx-url', sim.url, '--client-id', '599', '--client-secret', 's'], env)).code, 2, 'an id is added once')
  const readKey = printedKey((await run(['tenants', 'rotate-key', 'acme', '--scope', 'read'], env)).out)

  const list = await run(['tenants', 'list'], env)
  t.equal(list.code, 0)
  t.match(list.out, /^acme\thttp:\/\/127\.0\.0\.1:\d+\tclient 599\tkeys: 1 control, 1 read\twebhooks: crm\n$/)
  t.notOk(list.out.includes('sim-secret') || list.out.includes(first), 'no secret and no key listed')

  const rotated = await run(['tenants', 'rotate-key', 'acme'], env)
  t.equal(rotated.code, 0, rotated.err)
  const second = printedKey(rotated.out)
  t.not(second, first)
  const db = new pg.Pool({ connectionString: url, max: 1 })
  t.teardown(async () => { await db.end() })
  const stored = (await db.query<{ sha256: string, scope: string }>('SELECT sha256, scope FROM gateway_tenant_keys ORDER BY scope')).rows
  t.same(stored, [{ sha256: keyDigest(second), scope: 'control' }, { sha256: keyDigest(readKey), scope: 'read' }], 'only the SHA-256 of the current keys')
  const dump = JSON.stringify((await db.query('SELECT * FROM gateway_tenants')).rows)
  t.notOk(dump.includes('sim-secret'), 'the ${VAR} secret is stored as the reference')

  // Served from the table: the current keys work (compared by their SHA-256), the rotated-away key does not.
  const table = await openTenantsTable(url, false)
  const definitions = definitionsFromTable(await table.list(), env)
  await table.close()
  const gw = await startTenantGateway(loadConfig({ DATABASE_URL: url, DATA_DIR: t.testdir({}), PORT: '0', HOST: '127.0.0.1', RECORDINGS_SOURCE: 'off' }, { serving: false }), definitions, { logStream: quiet() })
  t.teardown(() => gw.close())
  const status = async (key: string): Promise<number> => (await fetch(`${gw.url}/pbx.calls.get`, { headers: { 'x-api-key': key } })).status
  t.equal(await status(second), 200, 'the new control key')
  t.equal(await status(readKey), 200, 'the read key')
  t.equal(await status(first), 401, 'the rotated-away key')
  t.throws(() => definitionsFromTable([{ ...definitions[0], pbxUrl: '', clientId: '', clientSecret: '${UNSET_VAR}', timezone: null, webhooks: [], recordings: null, keys: [], createdAt: 0 }], {}), /UNSET_VAR/)

  const removed = await run(['tenants', 'remove', 'acme'], env)
  t.equal(removed.code, 0)
  t.match(removed.out, /its stored state \(schema tenant_acme, DATA_DIR\/tenants\/acme\) is kept/)
  t.equal(Number((await db.query('SELECT COUNT(*) AS n FROM gateway_tenant_keys')).rows[0].n), 0, 'its keys went with it')
  t.equal((await run(['tenants', 'remove', 'acme'], env)).code, 2, 'removing it again: no such tenant')
  t.match((await run(['tenants', 'list'], env)).out, /^no tenants in the table/)
})
