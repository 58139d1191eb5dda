// Live-call methods during real scripted calls: simulator engine → Call Control WebSocket → the
// real CallModel → the legacy routes (no PBX request per live call).
import t from 'tap'
import { CONTROL_KEY, READ_KEY, startAppOnSimulator, staticCalls, waitFor, type AppOnSimulator } from '../legacy/legacy-harness.js'
import { PBX } from '../sim/pbx-under-test.js'
import { devicesOf } from '../../src/sim/callcontrol/dn-visibility.js'

const CALLER = '+15557654321'
// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const QUEUE = PBX.n('800')
const LINE = PBX.didTo(QUEUE)
const AGENT = PBX.n('101')
const TARGET = PBX.n('103')
const TRUNK = PBX.n('10000')
const RING_GROUP = PBX.n('700')
// Two users in no queue or ring group of the call above (makecall between them).
const CALLING = PBX.n('103')
const CALLED = PBX.n('104')
const { agentsOf, membersOf } = PBX
// A hunt queue rings its first agent first (the one that answers here); a ring-all queue all of them.
const RUNG = PBX.firstRung(QUEUE)
// Another agent: rung with AGENT where the queue rings all, left free where it hunts.
const OTHER = agentsOf(QUEUE).find((a) => a !== AGENT) ?? AGENT

async function get (gw: AppOnSimulator, url: string): Promise<any> {
  const r = await gw.app.inject({ url, headers: { 'x-api-key': READ_KEY } })
  if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`)
  return r.json()
}

async function simPost (gw: AppOnSimulator, path: string, body: unknown): Promise<Response> {
  return await fetch(`${gw.sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

async function startCall (gw: AppOnSimulator, script: Record<string, unknown>): Promise<number> {
  const res = await simPost(gw, '/_sim/calls', script)
  const body = await res.json() as { callid: number }
  if (res.status !== 201) throw new Error(`script refused: ${JSON.stringify(body)}`)
  return body.callid
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 5

t.test('inbound queue call: ringing agents, then a talking agent', { buffered: true }, async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  // A slow PBX (as on a loaded machine): each phase lasts far longer than the checks made in it, and
  // the talk ends when the checks are done (the test drops the call), not on a timer.
  t.equal((await simPost(gw, '/_sim/faults', { latencyMs: 250 })).status, 200)
  // ext.state.get keeps its serialized answer per directory entry: the Busy below must not be this Free.
  t.equal((await get(gw, `/ext.state.get?num=${OTHER}`)).status, 'Free', 'free before the call')
  const callid = await startCall(gw, { from: CALLER, to: LINE.number, answer: AGENT, ringMs: 6000, talkMs: 120_000, hangup: 'caller' })

  const ringing = await waitFor('agents ringing', 6000, async () => {
    const info = await get(gw, '/pbx.callsinfo.get')
    return info.callsInfo[0]?.routingTo.length === RUNG.length ? info : undefined
  })
  t.match(ringing.callsInfo[0], { callID: callid, answeredAt: null, did: LINE.name, startedAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ })
  t.same(ringing.callsInfo[0].routingTo.map((c: any) => c.dnNum).sort(), [...RUNG].sort())
  t.same((await get(gw, `/ext.state.get?num=${OTHER}`)).status, RUNG.includes(OTHER) ? 'Busy' : 'Free', 'a ringing agent is busy')
  t.same(await get(gw, `/queue.free.get?num=${QUEUE}`), { nums: agentsOf(QUEUE).filter((a) => !RUNG.includes(a)) })
  t.same(await get(gw, `/queue.talk.get?num=${QUEUE}`), { nums: [] })

  const talking = await waitFor('the answer', 10_000, async () => {
    const info = await get(gw, '/pbx.callsinfo.get')
    return info.callsInfo[0]?.state === 'Talking' ? info : undefined
  })
  t.same(talking, {
    count: 1,
    callsInfo: [{
      callID: callid,
      state: 'Talking',
      startedAt: talking.callsInfo[0].startedAt,
      answeredAt: talking.callsInfo[0].answeredAt,
      did: LINE.name,
      owner: { dnNum: AGENT, dnType: 'extension', externalParty: CALLER, status: 'Connected' },
      talkTo: [{ dnNum: TRUNK, dnType: 'externalline', externalParty: CALLER, status: 'Connected' }],
      routingTo: []
    }]
  })
  t.match(talking.callsInfo[0].answeredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  t.ok(talking.callsInfo[0].answeredAt >= talking.callsInfo[0].startedAt)

  const ac = await get(gw, '/pbx.ac.get')
  t.equal(ac.count, 1)
  t.match(ac.AConnByCallID[0], { callID: callid, direction: 'Inbound', did: LINE.name })
  t.same(ac.AConnByCallID[0].AConnList.map((c: any) => `${c.dnNum}/${c.dnType}/${c.status}/${c.externalParty}`).sort(),
    [`${TRUNK}/externalline/Connected/${CALLER}`, `${AGENT}/extension/Connected/${CALLER}`].sort())
  t.same(await get(gw, '/pbx.calls.get'), { result: 1 })
  t.match(await get(gw, `/ext.state.get?num=${AGENT}`), { num: AGENT, status: 'Busy', qStatus: [{ num: QUEUE, status: 'LoggedIn' }] })
  t.equal((await get(gw, `/ext.state.get?num=${OTHER}`)).status, 'Free')
  t.same(await get(gw, `/queue.talk.get?num=${QUEUE}`), { nums: [AGENT] })
  t.same(await get(gw, `/queue.free.get?num=${QUEUE}`), { nums: agentsOf(QUEUE).filter((a) => a !== AGENT) })
  t.same(await get(gw, `/queue.isfree.get?num=${QUEUE}`), { result: true })
  t.same(await get(gw, `/group.free.get?num=${RING_GROUP}`), { nums: membersOf(RING_GROUP).filter((m) => m !== AGENT) }, 'the agent is busy in a ring group too')

  const from = gw.sim.ctx.requestLog.length
  for (let i = 0; i < 20; i++) await get(gw, '/pbx.callsinfo.get')
  t.equal(gw.sim.ctx.requestLog.slice(from).filter((r) => r.url.startsWith('/xapi')).length, 0, 'no PBX request per live call')

  // The agent hangs up on the PBX itself (the simulator's engine): a Call Control token of the gateway's own
  // client would supersede the gateway's token, and the gateway's next one this test's (a whole-suite run failed so).
  const leg = gw.sim.ctx.engine.participants(AGENT).find((p) => p.callid === callid)
  t.ok(leg !== undefined, 'the agent is in the call')
  gw.sim.ctx.engine.dropParticipant(AGENT, leg?.id ?? 0)
  await waitFor('hang-up', 6000, async () => (await get(gw, '/pbx.calls.get')).result === 0 ? true : undefined)
  t.equal((await get(gw, `/ext.state.get?num=${AGENT}`)).status, 'Free')
  t.same(await get(gw, '/pbx.ac.get'), { count: 0, AConnByCallID: [] })
})

t.test('attended transfer agent → another user: Transferring while the agent consults, Talking once the target has the caller', { buffered: true }, async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  t.equal((await simPost(gw, '/_sim/faults', { latencyMs: 250 })).status, 200)
  const callid = await startCall(gw, {
    from: CALLER, to: LINE.number, answer: AGENT, ringMs: 2500, talkMs: 120_000, hangup: 'caller',
    transfer: { kind: 'attended', to: TARGET, afterMs: 1500, answer: true }
  })
  const consulting = await waitFor('the consultation', 15_000, async () => {
    // On the default PBX 103 rang as a queue agent before the answer: the consultation is its ringing after it.
    const info = await get(gw, '/pbx.callsinfo.get')
    const c = info.callsInfo[0]
    return c?.answeredAt !== null && c?.routingTo.some((l: any) => l.dnNum === TARGET) === true ? info : undefined
  })
  t.equal(consulting.callsInfo[0].state, 'Transferring', 'the agent consults the target')
  t.same(gw.app.gateway.calls.list()[0]?.transfer, { kind: 'consultation', by: AGENT, target: TARGET }, 'the live view names the consultation')

  // The target talks to the caller: the owner is the target facing the caller (its leg turned to the customer).
  const done = await waitFor('the transfer done', 15_000, async () => {
    const info = await get(gw, '/pbx.callsinfo.get')
    const c = info.callsInfo[0]
    return c?.owner?.dnNum === TARGET && c.owner.externalParty === CALLER ? info : undefined
  })
  t.match(done.callsInfo[0], { callID: callid, state: 'Talking', talkTo: [{ dnNum: TRUNK }] }, 'the finished transfer is no longer "Transferring"')
  // Failed once under load in a whole-suite run with no message (not reproduced since): say what the model held.
  t.equal(gw.app.gateway.calls.list()[0]?.transfer, null, `no transfer going on: ${JSON.stringify(gw.app.gateway.calls.list()).slice(0, 600)}`)

  // The target hangs up on the PBX itself (see the first case: no token of the gateway's own client here).
  const participants = gw.sim.ctx.engine.participants(TARGET)
  const leg = participants.find((p) => p.callid === callid)
  t.ok(leg !== undefined, `the target is in call ${callid}: ${JSON.stringify(participants).slice(0, 300)}`)
  gw.sim.ctx.engine.dropParticipant(TARGET, leg?.id ?? 0)
  await waitFor('hang-up', 6000, async () => (await get(gw, '/pbx.calls.get')).result === 0 ? true : undefined)
})

t.test('makecall: the answer reserves the call id the model then shows', { buffered: true }, async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  const r = await gw.app.inject({ url: `/makecall?first=${CALLING}&second=${CALLED}`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(r.statusCode, 200, r.body)
  const { chid, id } = r.json()
  t.match(id, /^\d{12}_\d+-0$/)
  const callid = Number(/_(\d+)-/.exec(id)?.[1])
  const call = await waitFor('the call in the model', 5000, async () =>
    (gw.app.gateway.calls.list().find((c) => c.callid === callid)))
  t.equal(call.chid, chid, 'same chain id as the makecall answer')
  t.equal((await get(gw, `/ext.state.get?num=${CALLING}`)).status, 'Busy')
  const posts = gw.sim.ctx.requestLog.filter((x) => x.method === 'POST' && /makecall|MakeCall/.test(x.url))
  t.equal(posts.length, 1, 'exactly one makecall request')
  t.match(posts[0].url, new RegExp(`^/callcontrol/${CALLING}/makecall`), 'via Call Control for a monitored DN')
})

t.test('makecall: device variant, and the XAPI fallback for a DN Call Control does not monitor', { buffered: true }, async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  const device = encodeURIComponent(devicesOf(gw.sim.ctx.directory, CALLING)[0].device_id)
  const r = await gw.app.inject({ url: `/makecall?first=${CALLING}&second=${CALLED}&contact=${device}`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(r.statusCode, 200, r.body)
  t.ok(gw.sim.ctx.requestLog.some((x) => x.method === 'POST' && x.url.startsWith(`/callcontrol/${CALLING}/devices/`)), 'device makecall')

  gw.sim.ctx.directory.apiClients[0].monitored = [PBX.n('100')]
  const from = gw.sim.ctx.requestLog.length
  const fb = await gw.app.inject({ url: `/makecall?first=${AGENT}&second=%2B15559870000`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(fb.statusCode, 200, fb.body)
  t.match(fb.json(), { result: true, chid: /\S/, id: /^\d{12}_\d+-0$/ })
  const posts = gw.sim.ctx.requestLog.slice(from).filter((x) => x.method === 'POST').map((x) => `${x.status} ${x.url}`)
  t.equal(posts.length, 2, 'Call Control refused once, XAPI placed the call once')
  t.match(posts[0], new RegExp(`^40[34] /callcontrol/${AGENT}/makecall`))
  t.match(posts[1], /^200 \/xapi\/v1\/Users\/Pbx\.MakeCall/)
})

t.test('makecall on a standby that knows no stream holder: 503, and no call placed', { buffered: true }, async (t) => {
  const gw = await startAppOnSimulator(t, { calls: { ...staticCalls(), canReserve: () => false } })
  const r = await gw.app.inject({ url: `/makecall?first=${CALLING}&second=${CALLED}`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(r.statusCode, 503)
  t.same(r.json().error.code, 'STREAM_HOLDER_UNAVAILABLE')
  t.match(r.json().error.message, new RegExp(`^The call from ${CALLING} to ${CALLED} was not placed: `))
  t.notOk(gw.sim.ctx.requestLog.some((x) => x.method === 'POST' && /makecall|MakeCall/.test(x.url)), 'the PBX got no makecall')
})
