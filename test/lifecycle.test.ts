// Readiness follows the PBX (down, WebSocket dropped, back), and a graceful shutdown with webhook
// deliveries in flight loses nothing: the next start on the same DATA_DIR delivers the rest.
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../src/config.js'
import { startGateway, type RunningGateway } from '../src/server.js'
import { startReceiver } from './webhooks/receiver.js'
import { pbxEnv, startSim } from './pbx/pbx-fixture.js'
import { PBX } from './sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const LINES = { [PBX.n('+15550101')]: PBX.n('101'), [PBX.n('+15550102')]: PBX.n('102') }

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })
const KEY = 'lifecycle-test-key-0123456789abcdef'

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting until ${what}`)
}

async function readiness (gw: RunningGateway): Promise<{ status: number, body: { ready: boolean, checks: Record<string, { ok: boolean, detail?: string }> } }> {
  const res = await fetch(`${gw.url}/readyz`)
  return { status: res.status, body: await res.json() as never }
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 2

t.test('readiness: simulator up, down, WebSocket dropped, recovered', { buffered: true }, async (t) => {
  const gw = await startGateway(loadConfig({ PORT: '0', DATA_DIR: t.testdir({}), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off' }), {
    logStream: quiet(), pbx: { reconnect: { baseMs: 50, maxMs: 300 } }
  })
  t.teardown(() => gw.close())
  await gw.services.pbx.callControl.ready()
  const sim = gw.simulator
  if (sim === null) throw new Error('demo mode has a simulator')
  t.match(await readiness(gw), { status: 200, body: { ready: true } })

  const opened = gw.services.pbx.callControl.reconnects
  sim.ctx.faults.apply({ dropWebSocket: true })
  // The drop and the reconnect (50 ms back-off) fit between two polls of `connected`: wait for the count.
  await until('the WebSocket to reconnect after the drop', async () => gw.services.pbx.callControl.reconnects > opened)
  await until('ready again after the WebSocket reconnects', async () => (await readiness(gw)).status === 200)
  t.ok(gw.services.pbx.callControl.reconnects >= 1, 'reconnected')

  sim.ctx.faults.apply({ down: true })
  await until('not ready while the PBX is down', async () => (await readiness(gw)).status === 503, 15_000)
  const down = await readiness(gw)
  t.equal(down.body.ready, false)
  t.equal(down.body.checks.websocket.ok, false, 'the WebSocket check says why')
  t.match(down.body.checks.websocket.detail, /not connected/)

  sim.ctx.faults.apply({ down: false })
  await until('ready after the PBX is back', async () => (await readiness(gw)).status === 200, 20_000)
  t.pass('recovered')
})

t.test('shutdown with deliveries in flight loses nothing', { buffered: true }, async (t) => {
  const sim = await startSim(t)
  // A receiver that holds every request for a long time: deliveries are in flight at shutdown.
  const slow = await startReceiver(0, () => ({ delayMs: 60_000 }))
  t.teardown(() => slow.close())
  const dataDir = t.testdir({})
  const env = { ...pbxEnv(sim.url), GATEWAY_KEYS: KEY, PORT: '0', DATA_DIR: dataDir, RECORDINGS_SOURCE: 'off', CALL_END_GRACE_MS: '100', WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms' }
  const first = await startGateway(loadConfig({ ...env, WEBHOOK_URLS: slow.url }), { logStream: quiet(), shutdownTimeoutMs: 1000 })
  await first.services.pbx.callControl.ready()
  for (const [to, answer] of Object.entries(LINES)) {
    const res = await fetch(`${sim.url}/_sim/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557654321', to, answer, ringMs: 200, talkMs: 300, hangup: 'caller' })
    })
    t.equal(res.status, 201)
  }
  await until('events are stored and the first deliveries are in flight', async () => {
    const depth = first.services.outbox.depth().webhook1
    return slow.all.length >= 1 && depth !== undefined && depth.pending >= 4
  })
  const stored = first.services.db.prepare('SELECT COUNT(*) AS n FROM webhook_events').get() as { n: number }
  await until('both calls ended', async () => first.services.calls.size() === 0)
  const total = (first.services.db.prepare('SELECT COUNT(*) AS n FROM webhook_events').get() as { n: number }).n
  // Each call's answer and end at least (a ring of 200 ms is not always seen: fewer ringing events on a hunt queue).
  t.ok(total >= stored.n && total >= 2 * Object.keys(LINES).length, `events stored (${total})`)
  const t0 = Date.now()
  await first.close()
  t.ok(Date.now() - t0 < 10_000, 'shutdown is bounded although the receiver never answers')

  // Same DATA_DIR, a healthy receiver at the same name: every stored event arrives.
  const good = await startReceiver()
  t.teardown(() => good.close())
  const second = await startGateway(loadConfig({ ...env, WEBHOOK_URLS: good.url }), { logStream: quiet() })
  t.teardown(() => second.close())
  await good.waitFor(total, 15_000)
  const ids = new Set(good.received.map((r) => String(r.headers['webhook-id'] ?? r.body)))
  t.ok(ids.size >= total, `all ${total} stored events delivered after the restart (${ids.size} distinct)`)
  await until('the outbox is empty', async () => (second.services.outbox.depth().webhook1?.pending ?? 0) === 0)
})
