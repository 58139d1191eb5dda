// The API client's route point (599) as an application sees it over Call Control: calls delivered
// to it (by DID and internally), answer/route/drop, the caller's keys (event 2), prompts (event 3),
// audio streams, attach_participant_data, empty bodies, and 3CX's refusals.
import t from 'tap'
import { CALLER, notation, sleep, startCcSim, type CcSim, type CcWatcher } from './callcontrol-harness.js'
import type { CallParticipant } from '../../src/pbx/callcontrol-types.js'
import { FAST_SIM_TIMING } from './fast-timing.js'

const APP_LINE = '+15550104'

async function until<T> (what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

async function routePointLeg (cc: CcSim, status: string): Promise<CallParticipant> {
  return await until(`a ${status} participant on 599`, async () => {
    const list = (await cc.get('/callcontrol/599/participants')).body as CallParticipant[]
    return list.find((p) => p.status === status)
  })
}

/** POSTs with Content-Type: application/json and nothing after it, as 3CX's own clients may. */
async function postEmptyJson (cc: CcSim, path: string): Promise<{ status: number, body: any }> {
  const res = await fetch(cc.sim.url + path, { method: 'POST', headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/json' } })
  return { status: res.status, body: await res.json() }
}

function wsEvents (w: CcWatcher, type: number): Array<{ entity: string, attached_data: unknown }> {
  return w.observed.filter((o) => o.message.event.event_type === type).map((o) => o.message.event)
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 4

t.test('a DID call waits on the route point until the application answers, with an empty JSON body', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 2000 }) // long enough that the status read right after the answer still finds it talking on a loaded machine
  const ringing = await routePointLeg(cc, 'Ringing')
  t.match(ringing, { dn: '599', callid, party_caller_id: CALLER, originated_by_dn: 'ROUTER', originated_by_type: 'Wroutepoint', device_id: /^sip:599@/ })
  const answered = await postEmptyJson(cc, `/callcontrol/599/participants/${ringing.id}/answer`)
  t.match(answered, { status: 200, body: { finalstatus: 'Success', result: { id: ringing.id } } })
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { status: 'talking', answeredBy: null })
  await cc.waitEnded([callid])
  t.same(notation(await cc.eventsOf(callid)), [
    '+10000#p1 Ringing 599/Wroutepoint CALLER',
    '+599#p2 Ringing 10000/Wexternalline CALLER orig=ROUTER/Wroutepoint',
    '+599#p2 Connected 10000/Wexternalline CALLER orig=ROUTER/Wroutepoint',
    '+10000#p1 Connected 599/Wroutepoint CALLER',
    '-599#p2',
    '-10000#p1'
  ])
  const again = await postEmptyJson(cc, `/callcontrol/599/participants/${ringing.id}/drop`)
  t.equal(again.status, 404, 'a participant that is gone')
})

t.test('an internal call to the route point nobody answers: the caller gives up after ringMs', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: '101', to: '599', ringMs: 300 })
  await routePointLeg(cc, 'Ringing')
  await cc.waitEnded([callid])
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { status: 'ended', answeredAt: null })
  t.match(await cc.post('/_sim/calls', { from: '101', to: '102', dtmf: '1' }), { status: 400, body: { error: { message: /route point/ } } })
  t.match(await cc.post('/_sim/calls', { from: '101', to: '+15551234567', answer: 'remote', dtmf: '1' }), { status: 400 })
  t.match(await cc.post('/_sim/calls', { from: '101', to: '599', answer: '101' }), { status: 400, body: { error: { message: /its application answers/ } } })
})

t.test('keys the caller presses reach the application as event 2; the script presses its own', { buffered: true }, async (t) => {
  const cc = await startCcSim(t, { timing: FAST_SIM_TIMING }) // the script's keys 100 ms after the answer
  const w = await cc.watch()
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 3000, dtmf: '42#' })
  const ringing = await routePointLeg(cc, 'Ringing')
  t.match(await cc.post(`/_sim/calls/${callid}/dtmf`, { digits: '1' }), { status: 409, body: { error: { code: 'NO_ROUTE_POINT' } } }, 'nobody hears keys before the answer')
  await cc.post(`/callcontrol/599/participants/${ringing.id}/answer`, {})
  await until('the scripted digits', () => wsEvents(w, 2).length > 0 ? true : undefined)
  t.same(wsEvents(w, 2)[0], { event_type: 2, entity: `/callcontrol/599/participants/${ringing.id}`, attached_data: { dtmf_input: '42#' } })
  t.match(await cc.post(`/_sim/calls/${callid}/dtmf`, { digits: '7' }), { status: 200, body: { callid, digits: '7', heardBy: [{ dn: '599', id: ringing.id }] } })
  await until('the pressed digit', () => wsEvents(w, 2).length > 1 ? true : undefined)
  t.match(wsEvents(w, 2)[1], { attached_data: { dtmf_input: '7' } })
  t.match((await cc.get('/_sim/events')).body.events.filter((e: { event_type: number }) => e.event_type === 2), [{ dtmf: '42#' }, { dtmf: '7' }])
  t.match(await cc.post(`/_sim/calls/${callid}/dtmf`, { digits: 'x' }), { status: 400 })
  t.match(await cc.post('/_sim/calls/99999/dtmf', { digits: '1' }), { status: 404 })
  await cc.post(`/callcontrol/599/participants/${ringing.id}/drop`, {})
})

t.test('scripted digits wait for the prompt that is playing', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const w = await cc.watch()
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 5000, dtmf: '3' })
  const leg = await routePointLeg(cc, 'Ringing')
  await cc.post(`/callcontrol/599/participants/${leg.id}/answer`)
  const started = Date.now()
  // 1.5 s of prompt: the caller presses only after it has played.
  const prompt = await fetch(`${cc.sim.url}/callcontrol/599/participants/${leg.id}/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(1500 * 16)
  })
  t.match(await prompt.json(), { finalstatus: 'Success', result: { id: leg.id } })
  await until('prompt finished', () => wsEvents(w, 3).length > 0 ? true : undefined)
  t.ok(Date.now() - started >= 1400, 'event 3 once the prompt has played')
  t.same(wsEvents(w, 3)[0], { event_type: 3, entity: `/callcontrol/599/participants/${leg.id}`, attached_data: null })
  await until('the digit', () => wsEvents(w, 2).length > 0 ? true : undefined)
  const order = w.observed.map((o) => o.message.event.event_type).filter((x) => x >= 2)
  t.same(order, [3, 2], 'the key comes after the prompt')
  await cc.post(`/callcontrol/599/participants/${leg.id}/drop`)
  await cc.waitEnded([callid])
})

t.test('GET stream plays the caller as PCM until the call ends; streams exist only on the route point', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 1000 })
  const leg = await routePointLeg(cc, 'Ringing')
  await cc.post(`/callcontrol/599/participants/${leg.id}/answer`)
  const res = await fetch(`${cc.sim.url}/callcontrol/599/participants/${leg.id}/stream`, { headers: { authorization: `Bearer ${cc.token}` } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/octet-stream')
  let bytes = 0
  let loud = false
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    const b = Buffer.from(chunk)
    for (let i = 0; i + 1 < b.length; i += 2) if (Math.abs(b.readInt16LE(i)) > 1000) loud = true
  }
  t.ok(bytes >= 3 * 1600 && bytes % 1600 === 0, `100 ms chunks of 16-bit 8 kHz audio while the call lasts (${bytes} bytes)`)
  t.ok(loud, 'the caller says something')
  await cc.waitEnded([callid])

  const other = await cc.call({ from: CALLER, to: '+15550102', answer: '102', ringMs: 100, talkMs: 2000 })
  const ext = await until('ext 102 leg', async () => ((await cc.get('/callcontrol/102/participants')).body as CallParticipant[])[0])
  t.match(await cc.get(`/callcontrol/102/participants/${ext.id}/stream`), { status: 422, body: { error: { message: /route-point participants only/ } } })
  t.match(await cc.post(`/callcontrol/102/participants/${ext.id}/stream`), { status: 422 })
  await cc.post(`/_sim/calls/${other}/dtmf`, { digits: '1' }).then((r) => { t.equal(r.status, 409, 'no route point in that call') })
})

t.test('a prompt for a participant that leaves mid-stream stops quietly', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 60_000 })
  const leg = await routePointLeg(cc, 'Ringing')
  await cc.post(`/callcontrol/599/participants/${leg.id}/answer`)
  // The participant leaves once the simulator has taken the stream's first chunk (mid-stream), not
  // after a fixed time: under load the request reached it after a 200 ms call had ended (404).
  const engine = cc.sim.ctx.engine
  const streamPrompt = engine.streamPrompt.bind(engine)
  let firstChunk: () => void = () => {}
  const streaming = new Promise<void>((resolve) => { firstChunk = resolve })
  engine.streamPrompt = (dn, id, event) => { if (event !== 'done') firstChunk(); return streamPrompt(dn, id, event) }
  let push: (b: Uint8Array | null) => void = () => {}
  const body = new ReadableStream<Uint8Array>({ start (c) { push = (b) => { if (b === null) c.close(); else c.enqueue(b) } } })
  const sent = fetch(`${cc.sim.url}/callcontrol/599/participants/${leg.id}/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/octet-stream' },
    body,
    duplex: 'half'
  } as RequestInit)
  push(new Uint8Array(320))
  await streaming
  t.equal((await cc.post(`/callcontrol/599/participants/${leg.id}/drop`)).status, 200)
  await cc.waitEnded([callid])
  push(new Uint8Array(320))
  push(null)
  const res = await sent
  t.equal(res.status, 200)
})

t.test('the application routes its caller to a queue; a busy extension is refused with PhoneBusy', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const busyCall = await cc.call({ from: CALLER, to: '+15550102', answer: '102', ringMs: 50, talkMs: 5000 })
  await until('102 talking', async () => (await cc.get(`/_sim/calls/${busyCall}`)).body.status === 'talking' ? true : undefined)
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 5000 })
  const leg = await routePointLeg(cc, 'Ringing')
  await cc.post(`/callcontrol/599/participants/${leg.id}/answer`)
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/routeto`, { destination: '102' }), {
    status: 422, body: { finalstatus: 'Failed', reason: 'PhoneBusy', reasontext: /102 is busy/ }
  })
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/transferto`, { destination: CALLER }), { status: 400 })
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/routeto`, { destination: '800' }), { status: 200, body: { result: { id: leg.id } } })
  const status = await until('an agent answers', async () => {
    const s = (await cc.get(`/_sim/calls/${callid}`)).body
    return s.queue?.answeredBy !== null && s.queue !== null ? s : undefined
  })
  t.match(status, { status: 'talking', queue: { dn: '800' } })
  t.equal((await cc.get('/callcontrol/599/participants')).body.length, 0, 'the route point has left the call')
  await cc.post(`/_sim/calls/${callid}/dtmf`, { digits: '1' }).then((r) => { t.equal(r.status, 409) })
  cc.sim.reset()
})

t.test('a ringing route-point call can be diverted; attach_participant_data keeps data on the leg', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: APP_LINE })
  const leg = await routePointLeg(cc, 'Ringing')
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/attach_participant_data`, { attacheddata: { lang: 'de', tries: 2 } }), { status: 200, body: { finalstatus: 'Success' } })
  t.match(await postEmptyJson(cc, `/callcontrol/599/participants/${leg.id}/attach_participant_data`), { status: 200 })
  t.same(cc.sim.ctx.engine.attachedData('599', leg.id), { lang: 'de', tries: 2 })
  t.equal(cc.sim.ctx.engine.attachedData('599', 999_999), undefined)
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/transferto`, { destination: '101' }), { status: 422, body: { reasontext: /connected participant/ } })
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/routeto`, { destination: '101' }), { status: 200 })
  await until('101 answers', async () => (await cc.get(`/_sim/calls/${callid}`)).body.answeredBy === '101' ? true : undefined)
  const bad = await fetch(`${cc.sim.url}/callcontrol/599/participants/1/drop`, { method: 'POST', headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/json' }, body: '{oops' })
  t.equal(bad.status, 400, 'broken JSON is still an error')
  cc.sim.reset()
})

t.test('the route point places calls from its device and hands the answered party on', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const info = (await cc.get('/callcontrol/599')).body
  t.match(info, { type: 'Wroutepoint', devices: [{ dn: '599', device_id: /^sip:599@/, user_agent: '3CX Route Point' }] })
  t.match((await cc.get('/callcontrol/800')).body.devices, [{ user_agent: '3CX Queue' }])
  const made = await cc.post(`/callcontrol/599/devices/${encodeURIComponent(info.devices[0].device_id as string)}/makecall`, { destination: '101' })
  t.match(made, { status: 200, body: { finalstatus: 'Success', result: { dn: '599', status: 'Dialing' } } })
  const callid = made.body.result.callid as number
  await routePointLeg(cc, 'Connected')
  t.match(await cc.post(`/_sim/calls/${callid}/dtmf`, { digits: '5' }), { status: 200, body: { heardBy: [{ dn: '599' }] } })
  t.match(await cc.post(`/callcontrol/599/participants/${made.body.result.id as number}/routeto`, { destination: '101' }), { status: 400, body: { reasontext: /party being transferred/ } })
  t.match(await cc.post(`/callcontrol/599/participants/${made.body.result.id as number}/transferto`, { destination: '700' }), { status: 200 })
  t.match((await cc.get('/callcontrol/599/participants')).body, [{ id: made.body.result.id, status: 'Connected' }], 'the route point keeps the call while 700 rings')
  const s = await until('the ring group answers', async () => {
    const b = (await cc.get(`/_sim/calls/${callid}`)).body
    return b.legs.some((l: CallParticipant) => l.dn === '100' && l.status === 'Connected') ? b : undefined
  })
  t.equal(s.legs.filter((l: CallParticipant) => l.dn === '599').length, 0, 'the route point left')
  const campaign = await cc.post('/callcontrol/800/makecall', { destination: '+15557000001' })
  t.match(campaign, { status: 200, body: { result: { dn: '800', party_dn_type: 'Wexternalline' } } })
  cc.sim.reset()
})

t.test('makecall refusals as 3CX answers them', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  t.match(await cc.post('/callcontrol/115/makecall', { destination: '101' }), {
    status: 422, body: { finalstatus: 'Failed', reason: 'PhoneNotRegistered', reasontext: /115 is not registered: it has no phone to ring first/ }
  })
  const user = cc.sim.ctx.directory.users.find((u) => u.Number === '103')
  if (user === undefined) throw new Error('seed lost 103')
  user.Internal = true
  t.match(await cc.post('/callcontrol/103/makecall', { destination: '+15557000002' }), { status: 422, body: { reason: 'NoDestinations' } })
  for (const trunk of cc.sim.ctx.directory.trunks) trunk.EnableOutboundCalls = false
  t.match(await cc.post('/callcontrol/104/makecall', { destination: '+15557000002' }), { status: 422, body: { reason: 'NoDestinations', reasontext: /no trunk/ } })
  const first = await cc.post('/callcontrol/101/makecall', { destination: '102' })
  t.equal(first.status, 200)
  t.match(await cc.post('/callcontrol/104/makecall', { destination: '102' }), { status: 422, body: { reason: 'PhoneBusy' } })
  const profile = cc.sim.ctx.directory.users.find((u) => u.Number === '102')?.ForwardingProfiles.find((p) => p.Name === 'Available')
  if (profile === undefined) throw new Error('seed lost 102 profile')
  profile.AcceptMultipleCalls = true
  t.match(await cc.post('/callcontrol/104/makecall', { destination: '102' }), { status: 200 }, 'call waiting on: a second call rings')
  t.match(await cc.post('/callcontrol/700/makecall', { destination: '101' }), { status: 400, body: { reasontext: /only extensions, the route point, queues and IVRs/ } })
  t.match(await cc.get('/callcontrol/101/devices/sip%3A101%40nowhere'), { status: 404 })
  t.match(await cc.post('/callcontrol/105/makecall', { destination: '10000' }), { status: 400, body: { reasontext: /cannot be called/ } })
  t.match(await cc.post('/callcontrol/105/makecall', { destination: '801' }), { status: 200 }, 'a queue can be called')
  t.match(await cc.post('/callcontrol/100/makecall', { destination: '599' }), { status: 200 }, 'so can the route point')
  t.match(await routePointLeg(cc, 'Ringing'), { party_dn: '100', party_caller_name: /./ })
  cc.sim.reset()
})

t.test('traffic sends a share of its calls to the route point, each caller pressing a seeded key', { buffered: true }, async (t) => {
  const cc = await startCcSim(t, { timing: FAST_SIM_TIMING }) // each caller's key 100 ms after the answer
  const w = await cc.watch()
  t.match(await cc.post('/_sim/traffic', { callsPerSecond: 20, seconds: 0.3, routePointShare: 1, maxRingMs: 3000, maxTalkMs: 2000, seed: 3 }), { status: 202, body: { calls: 6 } })
  await until('every call started', async () => (await cc.get('/_sim/traffic')).body.running === false ? true : undefined)
  t.match((await cc.get('/_sim/traffic')).body, { started: 6, failed: 0, byPath: { routepoint: 6 } })
  const first = await routePointLeg(cc, 'Ringing')
  await cc.post(`/callcontrol/599/participants/${first.id}/answer`)
  await until('its key', () => wsEvents(w, 2).length > 0 ? true : undefined)
  t.match(wsEvents(w, 2)[0], { entity: `/callcontrol/599/participants/${first.id}`, attached_data: { dtmf_input: /^[0-9#]$/ } })
  t.match(await cc.post('/_sim/traffic', { callsPerSecond: 1, seconds: 1, routePointShare: 2 }), { status: 400 })
  cc.sim.reset()
})
