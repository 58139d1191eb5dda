// Two gateways on one PostgreSQL database against the simulator: the first holds the PBX's event
// stream (WebSocket, tokens), the second is a standby that is ready, fetches no token of its own
// (3CX keeps one active token per client: it would cut the holder off), and answers XAPI methods
// with the holder's token, and answers the live methods from the holder's published view; when the
// holder stops, the standby takes the stream over.
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { until } from '../webhooks/helpers.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { login } from '../console/console-harness.js'
import { pbxEnv, startSim } from '../pbx/pbx-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })
const KEY = 'replica-standby-test-key-0123456789ab'

async function get (url: string): Promise<{ status: number, body: Record<string, any> }> {
  const r = await fetch(url, { headers: { 'x-api-key': KEY } })
  return { status: r.status, body: await r.json() as Record<string, any> }
}

t.test('a standby is ready, borrows the holder\'s token, and takes the stream over when the holder stops', async (t) => {
  const url = await testDatabase(t)
  const sim = await startSim(t)
  const env = {
    ...pbxEnv(sim.url), GATEWAY_KEYS: KEY, PORT: '0',
    RECORDINGS_SOURCE: 'off', CALL_END_GRACE_MS: '100', DATABASE_URL: url
  }
  const dirs = t.testdir({ a: {}, b: {} })
  const lease = { leaseMs: 1000, renewMs: 200 }
  const a = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/a' }), { logStream: quiet(), lease: { ...lease, replica: 'replica-a' } })
  let aClosed = false
  t.teardown(async () => { if (!aClosed) await a.close() })
  await a.services.pbx.callControl.ready()
  const b = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/b' }), { logStream: quiet(), lease: { ...lease, replica: 'replica-b' } })
  t.teardown(() => b.close())

  const readyA = await get(`${a.url}/readyz`)
  t.match(readyA.body.stream, { role: 'holder', replica: 'replica-a', holder: 'replica-a', pbxId: 'default' }, '/readyz of the holder')
  const readyB = await get(`${b.url}/readyz`)
  t.equal(readyB.status, 200, `the standby is ready: ${JSON.stringify(readyB.body.checks)}`)
  t.match(readyB.body.stream, { role: 'standby', replica: 'replica-b', holder: 'replica-a' }, '/readyz of the standby names the holder')
  t.notOk(b.services.pbx.callControl.connected, 'the standby has no WebSocket of its own')
  // The console's system panel says the same: which replica holds the stream, and this one's role.
  const session = await login(b.app, KEY)
  const system = await b.app.inject({ url: '/console/api/system', headers: { cookie: session.cookie } })
  t.match(system.json(), { stream: { role: 'standby', replica: 'replica-b', holder: 'replica-a', holderSince: /^\d{4}-/ } }, 'the standby\'s console names the holder')

  const users = await get(`${b.url}/ext.list.get`)
  t.equal(users.status, 200, 'the standby answers an XAPI method')
  t.equal(b.services.pbx.tokens.fetched, 0, 'with the holder\'s token: the standby fetched none')
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), a.services.pbx.tokens.fetched, 'every token the PBX issued went to the holder')
  t.ok(a.services.pbx.callControl.connected, 'the holder\'s WebSocket still stands')

  // Live methods on the standby answer from the holder's published view, refreshed on every change.
  const placed = await fetch(`${sim.url}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to: PBX.n('+15550101'), answer: PBX.n('101'), ringMs: 200, talkMs: 1500, hangup: 'caller' })
  })
  t.equal(placed.status, 201, 'a call placed on the PBX')
  await until(() => a.services.calls.size() === 1, 5000)
  const seen = Date.now()
  let onB = await get(`${b.url}/pbx.calls.get`)
  while (onB.body.result !== 1 && Date.now() - seen < 3000) onB = await get(`${b.url}/pbx.calls.get`)
  t.equal(onB.body.result, 1, `the standby's pbx.calls.get counts the holder's call (${Date.now() - seen} ms after the holder saw it)`)
  // The call moves on (ringing, answered): the standby catches up within a publication or two.
  let acA = await get(`${a.url}/pbx.ac.get`)
  let acB = await get(`${b.url}/pbx.ac.get`)
  for (let i = 0; i < 40 && JSON.stringify(acB.body) !== JSON.stringify(acA.body); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    acA = await get(`${a.url}/pbx.ac.get`)
    acB = await get(`${b.url}/pbx.ac.get`)
  }
  t.equal(acB.body.count, 1)
  t.same(acB.body, acA.body, 'pbx.ac.get answers the same on the standby as on the holder')
  await until(() => a.services.calls.size() === 0, 8000)
  const ended = Date.now()
  while ((await get(`${b.url}/pbx.calls.get`)).body.result !== 0 && Date.now() - ended < 3000) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal((await get(`${b.url}/pbx.calls.get`)).body.result, 0, 'and sees it end')

  // The holder stops (SIGTERM): it gives the lease back, the standby takes over at its next try.
  const stopped = Date.now()
  await a.close()
  aClosed = true
  await until(() => b.services.pbx.callControl.connected, 20_000)
  t.comment(`take-over after a clean stop: ${Date.now() - stopped} ms`)
  t.match((await get(`${b.url}/readyz`)).body.stream, { role: 'holder', holder: 'replica-b' }, 'the former standby holds the stream')
  t.equal(b.services.pbx.tokens.fetched, 1, 'and fetched a token of its own')
})
