// The whole gateway with DATABASE_URL against the simulator: call webhooks are delivered from the
// PostgreSQL outbox, and a restart (with an empty DATA_DIR: the state is in the database) resumes
// the call in progress and delivers everything stored, at least once, each call in order.
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../../../src/config.js'
import { startGateway } from '../../../src/server.js'
import { startReceiver } from '../../webhooks/receiver.js'
import { until } from '../../webhooks/helpers.js'
import { proxiedDatabase } from './pg-test-db.js'
import { pgGatewayFixture } from './pg-gateway-fixture.js'
import { pbxEnv, startSim } from '../../pbx/pbx-fixture.js'
import { PBX } from '../../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [QUEUE_LINE, AGENT, DIRECT_LINE, DIRECT] = ['+15550101', '101', '+15550102', '102'].map((n) => PBX.n(n))

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

async function placeCall (simUrl: string, to: string, answer: string, talkMs: number): Promise<number> {
  const res = await fetch(`${simUrl}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to, answer, ringMs: 200, talkMs, hangup: 'caller' })
  })
  if (res.status !== 201) throw new Error(`the simulator refused the call (${res.status})`)
  return ((await res.json()) as { callid: number }).callid
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 2

t.test('a gateway on PostgreSQL delivers call webhooks and survives a restart with a call in progress', { buffered: true }, async (t) => {
  const { db, sim, receiver, env } = await pgGatewayFixture(t, 'pg-gateway-test-key-0123456789abcdef')
  const dirs = t.testdir({ first: {}, second: {} })
  const first = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/first' }), { logStream: quiet() })
  await first.services.pbx.callControl.ready()
  await placeCall(sim.url, QUEUE_LINE, AGENT, 300)
  // In progress across the restart however long it takes: it talks until dropped once the second gateway has resumed it.
  const long = await placeCall(sim.url, DIRECT_LINE, DIRECT, 600_000)
  const ended = (): Set<string> => new Set(receiver.received.map((r) => JSON.parse(r.body) as { chid: string, event: string }).filter((p) => p.event === 'incoming').map((p) => p.chid))
  // Restart once the short call has ended and the long one is in progress.
  await until(() => ended().size === 1 && first.services.calls.size() === 1, 10_000)
  await first.close()
  t.equal(Number((await db.query('SELECT COUNT(*) AS n FROM live_calls')).rows[0].n), 1, 'the call in progress is stored in PostgreSQL')

  // An empty DATA_DIR: what the second gateway resumes comes from PostgreSQL.
  const second = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/second' }), { logStream: quiet() })
  t.teardown(() => second.close())
  t.equal(second.services.calls.size(), 1, 'the call in progress is resumed from PostgreSQL')
  t.equal(sim.ctx.engine.dropCall(long), true, 'the resumed call hangs up')
  await until(() => ended().size === 2, 15_000)
  const count = async (sql: string): Promise<number> => Number((await db.query(sql)).rows[0].n)
  await until(() => second.services.outbox.heldCount === 0, 5000)
  const total = await count('SELECT COUNT(*) AS n FROM webhook_events')
  for (let i = 0; i < 100 && await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status != 'done'") > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status != 'done'"), 0, 'every delivery done')
  const bodies = new Set(receiver.received.map((r) => r.body))
  t.equal(bodies.size, total, `every stored event delivered (${receiver.received.length} requests for ${total} events: at-least-once)`)
  const byCall = new Map<string, string[]>()
  for (const r of receiver.received) {
    const p = JSON.parse(r.body) as { chid: string, event: string }
    byCall.set(p.chid, [...(byCall.get(p.chid) ?? []), p.event])
  }
  t.equal(byCall.size, 2, 'both calls announced')
  // Per call, the events arrived in the order they were stored (first arrivals; a resend may follow).
  const keyOf = (p: Record<string, unknown>): string => [p.id, p.event, p.user, p.timestamp].map(String).join('|')
  const stored = new Map((await db.query<{ id: number, payload: Record<string, unknown> }>('SELECT id, payload FROM webhook_events')).rows.map((r) => [keyOf(r.payload), Number(r.id)]))
  const firstSeen = new Map<string, number[]>()
  for (const r of receiver.received) {
    const p = JSON.parse(r.body) as Record<string, unknown> & { chid: string }
    const id = stored.get(keyOf(p)) ?? -1
    const seen = firstSeen.get(p.chid) ?? []
    if (!seen.includes(id)) firstSeen.set(p.chid, [...seen, id])
  }
  t.notOk([...firstSeen.values()].flat().includes(-1), 'every delivered body is a stored event')
  for (const [chid, ids] of firstSeen) t.same(ids, [...ids].sort((a, b) => a - b), `${chid} delivered in the order stored`)
  for (const [chid, kinds] of byCall) {
    t.equal(kinds.filter((k) => k === 'incoming').length, 1, `${chid} ended once`)
    t.equal(kinds.indexOf('incoming'), kinds.length - 1, `${chid} ended last`)
  }
})

t.test('PostgreSQL going away under a gateway with a call in progress: /readyz says so, the process stays up, nothing is lost', { buffered: true }, async (t) => {
  const { url, proxy } = await proxiedDatabase(t)
  const sim = await startSim(t)
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const gw = await startGateway(loadConfig({
    ...pbxEnv(sim.url), GATEWAY_KEYS: 'pg-gateway-test-key-0123456789abcdef', PORT: '0',
    RECORDINGS_SOURCE: 'off', CALL_END_GRACE_MS: '100', WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms', DATABASE_URL: url, WEBHOOK_URLS: receiver.url,
    DATA_DIR: t.testdir({})
  }), { logStream: quiet() })
  t.teardown(() => gw.close())
  await gw.services.pbx.callControl.ready()
  const readyz = async (): Promise<{ status: number, detail: string }> => {
    const res = await fetch(`${gw.url}/readyz`)
    const body = await res.json() as { checks: { outbox: { detail?: string } } }
    return { status: res.status, detail: body.checks.outbox.detail ?? '' }
  }
  t.equal((await readyz()).status, 200)
  await proxy.down()
  await placeCall(sim.url, QUEUE_LINE, AGENT, 500)
  await until(() => gw.services.outbox.heldCount > 0, 10_000)
  const down = await readyz()
  t.equal(down.status, 503, 'not ready while the database is away')
  t.match(down.detail, /cannot reach postgres:\/\/postgres@127\.0\.0\.1:\d+\/gw_test_\w+ .* call events wait in memory/)
  await until(() => gw.services.calls.size() === 0, 10_000)
  t.equal(receiver.received.length, 0, 'nothing delivered before it is stored')
  await proxy.up()
  await until(() => receiver.received.some((r) => (JSON.parse(r.body) as { event: string }).event === 'incoming'), 15_000)
  const kinds = receiver.received.map((r) => (JSON.parse(r.body) as { event: string }).event)
  t.equal(kinds[0], 'ringing', `in order after the outage (${kinds.join(', ')})`)
  t.equal(kinds.at(-1), 'incoming')
  const deadline = Date.now() + 10_000
  while ((await readyz()).status !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal((await readyz()).status, 200, 'ready again')
})
