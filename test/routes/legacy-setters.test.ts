// Control methods against the simulator: a get right after a set shows the new value, the PBX
// really changed, every error code, and the limits of 3CX V20 (per-queue login, profile-driven
// queue status) answered honestly.
import t from 'tap'
import { CONTROL_KEY, READ_KEY, startAppOnSimulator, xapiRequests, type AppOnSimulator } from '../legacy/legacy-harness.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
// SALES and SUPPORT are the first and second queue; AGENT is an agent of the first only, HELPER of the
// second only; MEMBER is in no queue (a ring-group member); the others are plain users.
const [SALES, SUPPORT, AGENT, HELPER, MEMBER, USER, PLAIN, OTHER, REFUSED] = ['800', '801', '101', '104', '100', '102', '103', '106', '105'].map((n) => PBX.n(n))

const get = async (gw: AppOnSimulator, url: string, key = READ_KEY): Promise<{ status: number, body: any }> => {
  const r = await gw.app.inject({ url, headers: { 'x-api-key': key } })
  return { status: r.statusCode, body: r.json() }
}
const set = async (gw: AppOnSimulator, url: string): Promise<{ status: number, body: any }> => await get(gw, url, CONTROL_KEY)
const simUser = (gw: AppOnSimulator, num: string): any => gw.sim.ctx.directory.users.find((u) => u.Number === num)

t.test('ext.fwd.set: every accepted name, get right after set', async (t) => {
  const gw = await startAppOnSimulator(t)
  t.equal((await get(gw, `/ext.state.get?num=${USER}`)).body.fwdName, 'Available', 'cached before the set')
  const cases: Array<[string, string, string]> = [
    ['Away', 'Away', 'Away'], ['out%20of%20office', 'OutOfOffice', 'Out of office'], ['CUSTOM%201', 'Available2', 'Custom 1'],
    ['OutOfOffice2', 'OutOfOffice2', 'Custom 2'], ['available2', 'Available2', 'Custom 1'], ['available', 'Available', 'Available']
  ]
  for (const [status, internal, display] of cases) {
    t.same(await set(gw, `/ext.fwd.set?num=${USER}&status=${status}`), { status: 200, body: { result: true } }, status)
    t.equal(simUser(gw, USER).CurrentProfileName, internal, 'the PBX changed')
    t.equal((await get(gw, `/ext.state.get?num=${USER}`)).body.fwdName, display, 'a get right after shows it')
  }
  const bad = await set(gw, `/ext.fwd.set?num=${USER}&status=Lunch`)
  t.equal(bad.status, 400)
  t.equal(bad.body.error.code, 'BAD_PARAMETER')
  t.match(bad.body.error.message, /"status".*Available, Away, Out of office, Custom 1, Custom 2/)
  t.equal((await set(gw, '/ext.fwd.set?num=999&status=Away')).body.error.code, 'EXT_NOT_FOUND')
})

t.test('ext.queueglobal.set and ext.queue.set', async (t) => {
  const gw = await startAppOnSimulator(t)
  t.same(await set(gw, `/ext.queueglobal.set?num=${HELPER}&log=OFF`), { status: 200, body: { result: true } })
  t.equal(simUser(gw, HELPER).QueueStatus, 'LoggedOut')
  t.match((await get(gw, `/ext.state.get?num=${HELPER}`)).body, { qGlobalStatus: 'LoggedOut', qStatus: [{ num: SUPPORT, status: 'LoggedOut' }] })
  t.same((await get(gw, `/queue.free.get?num=${SUPPORT}`)).body, { nums: PBX.agentsOf(SUPPORT).filter((a) => a !== HELPER) }, 'free agents follow at once')

  // HELPER (104) is an agent of the second queue only: per-queue login maps exactly onto the global status.
  t.same(await set(gw, `/ext.queue.set?num=${HELPER}&queue=${SUPPORT}&log=true`), { status: 200, body: { result: true } })
  t.equal(simUser(gw, HELPER).QueueStatus, 'LoggedIn')
  t.equal((await get(gw, `/ext.state.get?num=${HELPER}`)).body.qGlobalStatus, 'LoggedIn')

  // Make AGENT an agent of both queues (through XAPI), then a per-queue change is impossible on V20.
  const support = gw.sim.ctx.directory.queues.find((q) => q.Number === SUPPORT)!
  await gw.clients.xapi.patch(`Queues(${support.Id})`, { Agents: [...support.Agents.map((a) => ({ Number: a.Number })), { Number: AGENT }] })
  gw.app.gateway.directory?.invalidateQueues()
  const multi = await set(gw, `/ext.queue.set?num=${AGENT}&queue=${SUPPORT}&log=off`)
  t.equal(multi.status, 501)
  t.equal(multi.body.result, false)
  t.equal(multi.body.error.code, 'NOT_SUPPORTED_BY_PBX')
  t.match(multi.body.error.message, new RegExp(`${SALES}, ${SUPPORT}`))
  t.equal(simUser(gw, AGENT).QueueStatus, 'LoggedIn', 'nothing changed silently')
  t.same(await set(gw, `/ext.queue.set?num=${AGENT}&queue=${SUPPORT}&log=on`), { status: 200, body: { result: true } }, 'already logged in: true, no change')

  t.equal((await set(gw, `/ext.queue.set?num=${AGENT}&queue=899&log=on`)).body.error.code, 'QUEUE_NOT_FOUND')
  const notAgent = await set(gw, `/ext.queue.set?num=${MEMBER}&queue=${SALES}&log=on`)
  t.equal(notAgent.status, 400)
  t.match(notAgent.body.error.message, /"queue".*not an agent/)
  t.equal((await set(gw, `/ext.queue.set?num=999&queue=${SALES}&log=on`)).body.error.code, 'EXT_NOT_FOUND')
})

t.test('ext.queueglobal.set when a profile drives queue status: result false, saying why', async (t) => {
  const gw = await startAppOnSimulator(t)
  simUser(gw, PLAIN).ForwardingProfiles[2].OfficeHoursAutoQueueLogOut = true
  const r = await set(gw, `/ext.queueglobal.set?num=${PLAIN}&log=off`)
  t.equal(r.status, 200)
  t.equal(r.body.result, false)
  t.equal(r.body.error.code, 'QUEUE_STATUS_PROFILE_DRIVEN')
  t.match(r.body.error.message, /Out of office.*may override/)
  t.equal(simUser(gw, PLAIN).QueueStatus, 'LoggedOut', 'the change was still made')
})

t.test('ext.options.set: each option reaches the PBX and the next get', async (t) => {
  const gw = await startAppOnSimulator(t)
  t.equal((await get(gw, `/ext.info.get?num=${OTHER}`)).body.enabled, true)
  t.same(await set(gw, `/ext.options.set?num=${OTHER}&enabled=off`), { status: 200, body: { result: true } })
  t.equal(simUser(gw, OTHER).Enabled, false)
  t.equal((await get(gw, `/ext.info.get?num=${OTHER}`)).body.enabled, false, 'get right after set')
  await set(gw, `/ext.options.set?num=${OTHER}&enabled=1&external=off&recording=External`)
  t.match(simUser(gw, OTHER), { Enabled: true, Internal: true, RecordCalls: true, RecordExternalCallsOnly: true })
  await set(gw, `/ext.options.set?num=${OTHER}&external=TRUE&recording=all`)
  t.match(simUser(gw, OTHER), { Internal: false, RecordCalls: true, RecordExternalCallsOnly: false })
  await set(gw, `/ext.options.set?num=${OTHER}&recording=off`)
  t.match(simUser(gw, OTHER), { RecordCalls: false })
  const none = await set(gw, `/ext.options.set?num=${OTHER}`)
  t.equal(none.status, 400)
  t.match(none.body.error.message, /at least one of enabled, external or recording/)
  t.equal((await set(gw, `/ext.options.set?num=${OTHER}&recording=some`)).status, 400)
})

t.test('setters fail loudly when the PBX refuses; makecall is never retried', async (t) => {
  const gw = await startAppOnSimulator(t)
  await get(gw, `/ext.info.get?num=${REFUSED}`)
  gw.sim.ctx.faults.apply({ xapiErrorRate: 1 })
  const r = await set(gw, `/ext.fwd.set?num=${REFUSED}&status=Away`)
  t.ok([502, 503, 504].includes(r.status), `PBX error status ${r.status}`)
  t.equal(r.body.result, false)
  t.match(r.body.error.code, /^PBX_/)
  gw.sim.ctx.faults.apply({})
  t.equal(simUser(gw, REFUSED).CurrentProfileName, 'Available')

  await set(gw, `/ext.options.set?num=${REFUSED}&enabled=off`)
  const from = gw.sim.ctx.requestLog.length
  const call = await set(gw, `/makecall?first=${REFUSED}&second=555`)
  t.equal(call.status, 422, 'a disabled extension cannot call: the PBX refuses what was asked')
  t.same([call.body.result, call.body.error.code], [false, 'PBX_REJECTED'])
  const posts = gw.sim.ctx.requestLog.slice(from).filter((x) => x.method === 'POST')
  t.ok(posts.length <= 2, 'at most Call Control then the XAPI fallback')
  t.equal(posts.filter((x) => x.url.includes('MakeCall')).length <= 1, true, 'XAPI MakeCall at most once')
})

t.test('makecall: parameters and answer', async (t) => {
  const gw = await startAppOnSimulator(t)
  const ok = await set(gw, `/makecall?first=${USER}&second=(555)%20987-0000&timeout=5000`)
  t.equal(ok.status, 200)
  t.match(ok.body, { result: true, chid: /\S/, id: /\S/ })
  const sent = xapiRequests(gw).concat(gw.sim.ctx.requestLog.map((x) => x.url)).join('\n')
  t.notMatch(sent, /\(555\)/, 'separators stripped before reaching the PBX')
  t.equal((await set(gw, '/makecall?first=999&second=555')).body.error.code, 'EXT_NOT_FOUND')
  t.equal((await set(gw, `/makecall?first=${USER}`)).body.error.message.startsWith('Parameter "second" is missing'), true)
  t.equal((await set(gw, `/makecall?first=${USER}&second=1%2B2`)).status, 400)
  t.equal((await set(gw, `/makecall?first=${USER}&second=555&timeout=5`)).status, 400)
  t.equal((await get(gw, `/makecall?first=${USER}&second=555`)).status, 403, 'read key')
})

t.test('PBX unreachable → 503 PBX_UNREACHABLE, PBX too slow → 504 PBX_TIMEOUT', async (t) => {
  // A timeout a loaded machine's reset still beats (at 150 ms a whole run saw the reset of a PBX that is down time out).
  const gw = await startAppOnSimulator(t, { env: { PBX_TIMEOUT_MS: '700' } })
  gw.sim.ctx.faults.apply({ latencyMs: 2000 })
  const slow = await get(gw, `/ext.info.get?num=${OTHER}`)
  t.equal(slow.status, 504)
  t.same([slow.body.result, slow.body.error.code], [false, 'PBX_TIMEOUT'])
  gw.sim.ctx.faults.apply({ down: true })
  const down = await get(gw, '/queue.list.get')
  t.equal(down.status, 503)
  t.same([down.body.result, down.body.error.code], [false, 'PBX_UNREACHABLE'])
  t.match(down.body.error.message, /PBX_URL/)
  gw.sim.ctx.faults.apply({})
  t.equal((await get(gw, '/queue.list.get')).status, 200, 'recovers')
})

t.test('40 setters 40 ms apart on a slow PBX all succeed (invalidations never fail a waiting read)', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 10_000 } })
  await fetch(`${gw.sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 150 }) })
  const answers: Array<Promise<{ status: number, body: any }>> = []
  for (let i = 0; i < 40; i++) {
    answers.push(set(gw, `/ext.fwd.set?num=${PLAIN}&status=${i % 2 === 0 ? 'Away' : 'Available'}`))
    await new Promise((resolve) => setTimeout(resolve, 40))
  }
  const results = await Promise.all(answers)
  t.equal(results.length, 40)
  t.same(results.filter((r) => r.status !== 200), [], 'every setter answered 200')
})
