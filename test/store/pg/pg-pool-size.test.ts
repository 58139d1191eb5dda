// DATABASE_POOL_MAX reaches the gateway's PostgreSQL pool: under calls and many concurrent reads of
// the delivery log, the gateway never holds more connections to its database than the setting.
import t from 'tap'
import { Writable } from 'node:stream'
import pg from 'pg'
import { loadConfig } from '../../../src/config.js'
import { startGateway } from '../../../src/server.js'
import { startReceiver } from '../../webhooks/receiver.js'
import { until } from '../../webhooks/helpers.js'
import { testDatabase } from './pg-test-db.js'
import { pbxEnv, startSim } from '../../pbx/pbx-fixture.js'
import { PBX } from '../../sim/pbx-under-test.js'

const [QUEUE_LINE, AGENT] = ['+15550101', '101'].map((n) => PBX.n(n))
const KEY = 'pg-pool-size-key-0123456789abcdef'
const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

t.test('the gateway opens at most DATABASE_POOL_MAX connections to its database under load', async (t) => {
  const url = await testDatabase(t)
  const name = new URL(url).pathname.slice(1)
  // Counted from another database (the server's), so the counting connection is never among them.
  const admin = new pg.Client({ connectionString: url.replace(`/${name}`, '/postgres') })
  await admin.connect()
  t.teardown(async () => { await admin.end() })
  const sim = await startSim(t)
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const gw = await startGateway(loadConfig({
    ...pbxEnv(sim.url), GATEWAY_KEYS: KEY, PORT: '0', RECORDINGS_SOURCE: 'off', CALL_END_GRACE_MS: '100',
    DATABASE_URL: url, DATABASE_POOL_MAX: '3', WEBHOOK_URLS: receiver.url, DATA_DIR: t.testdir()
  }), { logStream: quiet() })
  t.teardown(() => gw.close())
  await gw.services.pbx.callControl.ready()

  let most = 0
  let sampling = true
  const sample = async (): Promise<void> => {
    while (sampling) {
      const r = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = '3cx-gateway'", [name])
      most = Math.max(most, r.rows[0].n)
    }
  }
  const sampler = sample()
  for (let i = 0; i < 4; i++) {
    await fetch(`${sim.url}/_sim/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557654321', to: QUEUE_LINE, answer: AGENT, ringMs: 100, talkMs: 200, hangup: 'caller' })
    })
  }
  // 40 delivery-log reads at once would take 40 connections from an unbounded pool.
  for (let round = 0; round < 5; round++) {
    const reads = await Promise.all(Array.from({ length: 40 }, async () => (await fetch(`${gw.url}/webhooks/deliveries?limit=50`, { headers: { 'x-api-key': KEY } })).status))
    t.ok(reads.every((s) => s === 200), `round ${round + 1}: every read answered 200`)
  }
  await until(() => receiver.received.length >= 8, 15_000)
  sampling = false
  await sampler
  t.ok(most >= 2, `the gateway used its pool (${most} connections at most)`)
  t.ok(most <= 3, `never more connections than DATABASE_POOL_MAX=3 (${most} at most)`)
})
