// `3cx-gateway serve` with the tenants table as its source (DATABASE_URL, no GATEWAY_KEYS, TENANTS_FILE
// or PBX_URL) started while the table was empty: before, it started a demo gateway and never noticed the
// tenants added later; now it serves none, follows the table as it does when the table has tenants, and
// serves a tenant added with `3cx-gateway tenants add` without a restart; meanwhile /readyz is 200 (it
// works as configured), so a container's HEALTHCHECK does not call it unhealthy, unless the table cannot be
// read (then it could not learn of a tenant either: 503, saying why). A real `serve` process.
import t from 'tap'
import pg from 'pg'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createSimulator } from '../../src/sim/simulator.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { until } from '../pbx/pbx-fixture.js'
import { TS_CHILD_ARGS } from '../ts-child.js'
import { isReady, readyzUrl } from '../../src/healthcheck.js'
import { printedKey, run } from './cli-run.js'

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))

t.test('started with an empty tenants table, the gateway serves a tenant added later', async (t) => {
  const url = await testDatabase(t)
  const sim = await createSimulator()
  t.teardown(() => sim.close())
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: url,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: t.testdir({}),
    RECORDINGS_SOURCE: 'off',
    LOG_FORMAT: 'json',
    PBX_URL: '',
    GATEWAY_KEYS: '',
    TENANTS_FILE: ''
  }
  const child = spawn(process.execPath, [...TS_CHILD_ARGS, cli, 'serve'], { cwd: env.DATA_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (c: Buffer) => { log += c.toString() })
  child.stderr.on('data', (c: Buffer) => { log += c.toString() })
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })

  await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(log) || child.exitCode !== null, 120_000, 'the gateway listening')
  const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1] ?? ''
  t.not(base, '', `started (log: ${log.slice(0, 400)})`)
  t.notMatch(log, /DEMO MODE/, 'not the demo gateway')
  t.match(log, /no tenants yet/, 'the start line says it waits for tenants')
  t.equal((await fetch(`${base}/pbx.calls.get`, { headers: { 'x-api-key': 'demo' } })).status, 404, 'no tenant: nothing is served, not even the demo key')
  // Working as configured (waiting for tenants): ready, not "unhealthy" until someone adds one.
  const ready = await fetch(`${base}/readyz`)
  t.equal(ready.status, 200, '/readyz with no tenants')
  t.match(await ready.json(), { ready: true, mode: 'tenants', unready: [], tenants: {}, note: /^no tenants yet: / })
  t.ok(await isReady(readyzUrl({ HOST: '127.0.0.1', PORT: new URL(base).port })), 'the container\'s HEALTHCHECK calls it healthy')
  t.match(await (await fetch(`${base}/readyz`)).json(), { source: { source: 'the tenants table', ok: true } }, 'the last read of the table went well')

  const added = await run(['tenants', 'add', 'acme', '--pbx-url', sim.url, '--client-id', '599', '--client-secret', 'sim-secret'], { DATABASE_URL: url })
  t.equal(added.code, 0, added.err)
  const key = printedKey(added.out)
  // Waiting on the log, not on requests: refused attempts would be throttled (429).
  await until(() => log.includes('tenant acme added') || child.exitCode !== null, 20_000, 'acme added')
  const r = await fetch(`${base}/pbx.calls.get`, { headers: { 'x-api-key': key } })
  t.equal(r.status, 200, 'the tenant added after the start is served with its key')

  // Removed again: no tenant, the table there and empty.
  const removed = await run(['tenants', 'remove', 'acme'], { DATABASE_URL: url })
  t.equal(removed.code, 0, removed.err)
  await until(() => log.includes('tenant acme removed') || child.exitCode !== null, 20_000, 'acme removed')
  // The table cannot be read (here: renamed away; in life a revoked grant, a dropped schema): with no
  // tenant, nothing is served and none can be learnt of, so not ready, and /readyz says why.
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  t.teardown(async () => { await db.end() })
  await db.query('ALTER TABLE gateway_tenants RENAME TO gateway_tenants_away')
  let body: { ready?: boolean, note?: string, source?: { ok: boolean, problem?: string, failingSince?: string } } = {}
  await until(async () => {
    const r = await fetch(`${base}/readyz`)
    body = await r.json() as typeof body
    return r.status === 503
  }, 15_000, '/readyz 503 once the table cannot be read')
  t.match(body, { ready: false, source: { ok: false, problem: /gateway_tenants/, failingSince: /^\d{4}-/ }, note: /^no tenants, and the tenants table cannot be read: / })
  t.notOk(await isReady(readyzUrl({ HOST: '127.0.0.1', PORT: new URL(base).port })), 'the HEALTHCHECK calls it unhealthy')
  await db.query('ALTER TABLE gateway_tenants_away RENAME TO gateway_tenants')
  await until(async () => (await fetch(`${base}/readyz`)).status === 200, 15_000, '/readyz 200 once the table can be read again')
  t.match(await (await fetch(`${base}/readyz`)).json(), { ready: true, source: { ok: true }, note: /^no tenants yet: / })


  child.kill('SIGTERM')
  t.equal(await exited, 0)
})
