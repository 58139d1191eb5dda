// Call Control REST and WebSocket of the simulator: DN listing, devices, participants, makecall,
// participant actions and their refusals, monitored-DN visibility, WebSocket auth and faults.
import t from 'tap'
import WebSocket from 'ws'
import { CALLER, notation, startCcSim, type CcSim } from './callcontrol-harness.js'
import { fetchToken } from './xapi-fixture.js'
import { until } from '../pbx/pbx-fixture.js'
import { FAST_SIM_TIMING } from './fast-timing.js'

/** Waits for `dn` to have a participant in `status` (the simulator answers after about a second). */
async function untilParticipant (cc: CcSim, dn: string, status: string): Promise<void> {
  await until(async () => (await cc.get(`/callcontrol/${dn}/participants`)).body.some((p: { status: string }) => p.status === status), 5000, `a ${status} participant on ${dn}`)
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 4

t.test('GET /callcontrol lists every DN with its type and devices', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const res = await cc.get('/callcontrol')
  t.equal(res.status, 200)
  const byDn = new Map((res.body as Array<{ dn: string, type: string, devices: unknown[], participants: unknown[] }>).map((d) => [d.dn, d]))
  t.match(byDn.get('101'), { type: 'Wextension', devices: [{ dn: '101', device_id: /^sip:101@/ }], participants: [] })
  t.same(byDn.get('115')?.devices, [], 'an unregistered user has no device')
  t.equal(byDn.get('800')?.type, 'Wqueue')
  t.equal(byDn.get('700')?.type, 'Wringgroup')
  t.equal(byDn.get('900')?.type, 'Wivr')
  t.equal(byDn.get('10000')?.type, 'Wexternalline')
  t.equal(byDn.get('599')?.type, 'Wroutepoint')

  const one = await cc.get('/callcontrol/102')
  t.match(one, { status: 200, body: { dn: '102', type: 'Wextension' } })
  const devices = await cc.get('/callcontrol/102/devices')
  t.equal(devices.body.length, 1)
  const dev = await cc.get(`/callcontrol/102/devices/${encodeURIComponent(devices.body[0].device_id as string)}`)
  t.same(dev.body, devices.body[0], 'a device by its URL-encoded SIP id')
  t.match(await cc.get('/callcontrol/102/devices/sip%3Anope'), { status: 404, body: { error: { code: 'NotFound' } } })
  t.match(await cc.get('/callcontrol/4711'), { status: 404, body: { error: { message: /4711/ } } })
  t.match(await cc.get('/callcontrol/102/participants/abc'), { status: 400, body: { error: { code: 'BadRequest' } } })
  t.match(await cc.get('/callcontrol/102/participants/99999'), { status: 404 })
  t.match(await cc.get('/callcontrol/ws'), { status: 426 }, 'plain GET on the WebSocket path')
  t.match(await cc.get('/callcontrol', 'not-a-token'), { status: 401 })
})

t.test('participants appear on their DN and in DNInfo while the call lasts', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  // It talks until the checks are done (then dropped), however slow the machine.
  const callid = await cc.call({ from: CALLER, to: '+15550102', answer: '102', ringMs: 100, talkMs: 60_000 })
  await untilParticipant(cc, '102', 'Connected')
  const list = await cc.get('/callcontrol/102/participants')
  t.equal(list.body.length, 1)
  t.match(list.body[0], { dn: '102', status: 'Connected', callid, party_caller_id: CALLER, party_did: '', device_id: /^sip:102@/ })
  const info = await cc.get('/callcontrol/10000')
  t.match(info.body.participants, [{ dn: '10000', status: 'Connected', party_dn: '102' }])
  const status = await cc.get(`/_sim/calls/${callid}`)
  t.match(status.body, { callid, status: 'talking', legs: [{ dn: '10000' }, { dn: '102' }] })
  t.equal(cc.sim.ctx.engine.dropCall(callid), true)
  await cc.waitEnded([callid])
  t.match(await cc.get(`/callcontrol/102/participants/${list.body[0].id as number}`), { status: 404 })
})

t.test('makecall from an extension and from its device', { buffered: true }, async (t) => {
  // Answered fast, but talking until dropped: with FAST_SIM_TIMING's 500 ms a loaded machine saw the
  // call end by itself before the drop (404), and "drop ends the call" held whatever drop did.
  const cc = await startCcSim(t, { timing: { ...FAST_SIM_TIMING, talkMs: 60_000 } })
  const res = await cc.post('/callcontrol/101/makecall', { destination: '102' })
  t.equal(res.status, 200)
  t.match(res.body, { finalstatus: 'Success', result: { dn: '101', status: 'Dialing', party_dn: '102', party_dn_type: 'Wextension', legid: 1 } })
  const callid = res.body.result.callid as number
  await until(async () => (await cc.get(`/_sim/calls/${callid}`)).body.status === 'talking', 5000, 'the call to be answered')
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { status: 'talking', answeredBy: '102' }, 'a registered extension answers (after timing.answerMs)')
  t.equal((await cc.post(`/callcontrol/101/participants/${res.body.result.id as number}/drop`, {})).status, 200)
  t.equal((await cc.get(`/_sim/calls/${callid}`)).body.status, 'ended', 'drop ends the call')

  const device = encodeURIComponent('sip:103@127.0.0.1:5163')
  const viaDevice = await cc.post(`/callcontrol/103/devices/${device}/makecall`, { destination: '+15559870000' })
  t.match(viaDevice.body, { finalstatus: 'Success', result: { dn: '103', party_dn: '10000', party_caller_id: '+15559870000' } })
  t.equal(cc.sim.ctx.engine.dropCall(viaDevice.body.result.callid as number), true, 'XAPI-style DropCall')
  t.equal(cc.sim.ctx.engine.dropCall(viaDevice.body.result.callid as number), false, 'no second drop')

  t.match(await cc.post('/callcontrol/101/makecall', {}), { status: 400, body: { finalstatus: 'Failed', reasontext: /destination/ } })
  t.match(await cc.post('/callcontrol/101/makecall', { destination: 'nowhere' }), { status: 400, body: { reasontext: /nowhere/ } })
  t.match(await cc.post('/callcontrol/700/makecall', { destination: '101' }), { status: 400, body: { reasontext: /ringgroup/ } })
  t.match(await cc.post('/callcontrol/115/devices/sip%3A115%40x/makecall', { destination: '101' }), { status: 404 })
  cc.sim.ctx.directory.users.find((u) => u.Number === '104')!.Enabled = false
  t.match(await cc.post('/callcontrol/104/makecall', { destination: '101' }), { status: 400, body: { reasontext: /disabled/ } })
})

t.test('participant actions: answer needs direct control, divert only ringing, transferto only connected', { buffered: true }, async (t) => {
  const cc = await startCcSim(t, { timing: FAST_SIM_TIMING }) // diverted and transferred calls answer after 100 ms
  const watcher = await cc.watch()
  // 102 rings far longer than the requests made while it rings take (the divert ends its ringing).
  const callid = await cc.call({ from: CALLER, to: '+15550102', answer: '102', ringMs: 30_000, talkMs: 2000 })
  await untilParticipant(cc, '102', 'Ringing')
  const [leg] = (await cc.get('/callcontrol/102/participants')).body
  t.match(await cc.post(`/callcontrol/102/participants/${leg.id as number}/answer`, {}), { status: 422, body: { finalstatus: 'Failed', reasontext: /direct control/ } })
  t.match(await cc.post(`/callcontrol/102/participants/${leg.id as number}/transferto`, { destination: '103' }), { status: 422, body: { reasontext: /Ringing/ } })
  t.match(await cc.post(`/callcontrol/102/participants/${leg.id as number}/divert`, {}), { status: 400, body: { reasontext: /destination/ } })
  t.match(await cc.post(`/callcontrol/102/participants/${leg.id as number}/hold`, {}), { status: 400 }, 'unknown verb')
  const div = await cc.post(`/callcontrol/102/participants/${leg.id as number}/divert`, { destination: '104' })
  t.match(div.body, { finalstatus: 'Success', result: { id: leg.id, status: 'Ringing' } })
  await untilParticipant(cc, '104', 'Connected')
  const [at104] = (await cc.get('/callcontrol/104/participants')).body
  t.match(at104, { status: 'Connected', callid }, 'the diverted call rings 104, which answers')
  t.match(await cc.post(`/callcontrol/104/participants/${at104.id as number}/divert`, { destination: '105' }), { status: 422, body: { reasontext: /divert/ } })
  const tr = await cc.post(`/callcontrol/104/participants/${at104.id as number}/transferto`, { destination: '105' })
  t.equal(tr.status, 200)
  await untilParticipant(cc, '105', 'Connected')
  t.match((await cc.get('/callcontrol/105/participants')).body, [{ status: 'Connected', referred_by_dn: '104', callid }])
  t.match((await cc.get(`/_sim/calls/${callid}`)).body.transfers, [{ kind: 'blind', from: '104', to: '105', answered: true }])
  t.equal((await cc.post(`/callcontrol/10000/participants/${(await cc.get('/callcontrol/10000/participants')).body[0].id as number}/drop`)).status, 200)
  await cc.waitEnded([callid])
  await watcher.settled()
  t.same(notation(await cc.eventsOf(callid)).slice(0, 3), [
    '+10000#p1 Ringing 102/Wextension CALLER',
    '+102#p2 Ringing 10000/Wexternalline CALLER orig=ROUTER/Wroutepoint',
    '-102#p2'
  ], 'divert removes the ringing leg')
})

t.test('visibility is limited to the monitored DNs and the own route point', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  cc.sim.ctx.directory.apiClients[0].monitored = ['101', '10000']
  const list = await cc.get('/callcontrol')
  t.same(list.body.map((d: { dn: string }) => d.dn), ['101', '10000', '599'])
  t.match(await cc.get('/callcontrol/102'), { status: 403, body: { error: { code: 'Forbidden', message: /not monitored/ } } })
  t.match(await cc.get('/callcontrol/102/participants'), { status: 403 })
  t.match(await cc.post('/callcontrol/102/makecall', { destination: '101' }), { status: 403 })
  const watcher = await cc.watch()
  const callid = await cc.call({ from: CALLER, to: '+15550101', answer: '101', ringMs: 100, talkMs: 100 })
  await cc.waitEnded([callid])
  await watcher.settled()
  const dns = new Set(watcher.observed.map((o) => o.message.event.entity.split('/')[2]))
  t.same([...dns].sort(), ['10000', '101'], 'only events of monitored DNs are pushed')
  const all = (await cc.get('/_sim/events')).body.events as unknown[]
  t.ok(all.length > watcher.observed.length, 'the log has the rest')
})

t.test('WebSocket: bearer auth on the upgrade, closed by faults and revocation', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const url = `${cc.sim.url.replace('http', 'ws')}/callcontrol/ws`
  const refused = (headers: Record<string, string>): Promise<number> => new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on('open', () => { resolve(101); ws.terminate() })
    ws.on('error', () => {})
  })
  t.equal(await refused({}), 401, 'no token')
  t.equal(await refused({ authorization: 'Bearer x.y.z' }), 401, 'bad token')

  const w1 = await cc.watch()
  await cc.post('/_sim/faults', { dropWebSocket: true })
  await w1.closed
  t.pass('dropWebSocket closes the socket')

  const w2 = await cc.watch()
  await cc.post('/_sim/faults', { revokeTokens: true })
  await w2.closed
  t.pass('revoking tokens closes the socket')
  t.equal(await refused({ authorization: `Bearer ${cc.token}` }), 401, 'the revoked token is refused')

  const fresh = await fetchToken(cc.sim.url)
  const w3 = await cc.watch(fresh)
  // "down" cuts every socket but the one of the /_sim request that asked for it.
  t.match(await cc.post('/_sim/faults', { down: true }), { status: 200, body: { down: true } }, 'the control request itself is answered')
  await w3.closed
  t.pass('down closes the socket')
  await cc.post('/_sim/faults', {})
})
