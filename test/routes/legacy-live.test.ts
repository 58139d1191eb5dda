// Live-call methods during real scripted calls: simulator engine → Call Control WebSocket → the
// real CallModel → the legacy routes (no PBX request per live call).
import t from 'tap'
import { CONTROL_KEY, READ_KEY, startAppOnSimulator, waitFor, type AppOnSimulator } from '../legacy/legacy-harness.js'
import { issueToken } from '../sim/callcontrol-harness.js'

const CALLER = '+15557654321'

async function get (gw: AppOnSimulator, url: string): Promise<any> {
  const r = await gw.app.inject({ url, headers: { 'x-api-key': READ_KEY } })
  if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`)
  return r.json()
}

async function simPost (gw: AppOnSimulator, path: string, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }
  return await fetch(`${gw.sim.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
}

async function startCall (gw: AppOnSimulator, script: Record<string, unknown>): Promise<number> {
  const res = await simPost(gw, '/_sim/calls', script)
  const body = await res.json() as { callid: number }
  if (res.status !== 201) throw new Error(`script refused: ${JSON.stringify(body)}`)
  return body.callid
}

t.test('inbound queue call: ringing agents, then a talking agent', async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  // A slow PBX (as on a loaded machine): each phase lasts far longer than the checks made in it, and
  // the talk ends when the checks are done (the test drops the call), not on a timer.
  t.equal((await simPost(gw, '/_sim/faults', { latencyMs: 250 })).status, 200)
  // ext.state.get keeps its serialized answer per directory entry: the Busy below must not be this Free.
  t.equal((await get(gw, '/ext.state.get?num=102')).status, 'Free', 'free before the call')
  const callid = await startCall(gw, { from: CALLER, to: '+15550101', answer: '101', ringMs: 6000, talkMs: 120_000, hangup: 'caller' })

  const ringing = await waitFor('agents ringing', 6000, async () => {
    const info = await get(gw, '/pbx.callsinfo.get')
    return info.callsInfo[0]?.routingTo.length === 3 ? info : undefined
  })
  t.match(ringing.callsInfo[0], { callID: callid, answeredAt: null, did: 'Sales line', startedAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ })
  t.same(ringing.callsInfo[0].routingTo.map((c: any) => c.dnNum).sort(), ['101', '102', '103'])
  t.same((await get(gw, '/ext.state.get?num=102')).status, 'Busy', 'a ringing agent is busy')
  t.same(await get(gw, '/queue.free.get?num=800'), { nums: [] })
  t.same(await get(gw, '/queue.talk.get?num=800'), { nums: [] })

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
      did: 'Sales line',
      owner: { dnNum: '101', dnType: 'extension', externalParty: CALLER, status: 'Connected' },
      talkTo: [{ dnNum: '10000', dnType: 'externalline', externalParty: CALLER, status: 'Connected' }],
      routingTo: []
    }]
  })
  t.match(talking.callsInfo[0].answeredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  t.ok(talking.callsInfo[0].answeredAt >= talking.callsInfo[0].startedAt)

  const ac = await get(gw, '/pbx.ac.get')
  t.equal(ac.count, 1)
  t.match(ac.AConnByCallID[0], { callID: callid, direction: 'Inbound', did: 'Sales line' })
  t.same(ac.AConnByCallID[0].AConnList.map((c: any) => `${c.dnNum}/${c.dnType}/${c.status}/${c.externalParty}`).sort(),
    [`10000/externalline/Connected/${CALLER}`, `101/extension/Connected/${CALLER}`])
  t.same(await get(gw, '/pbx.calls.get'), { result: 1 })
  t.match(await get(gw, '/ext.state.get?num=101'), { num: '101', status: 'Busy', qStatus: [{ num: '800', status: 'LoggedIn' }] })
  t.equal((await get(gw, '/ext.state.get?num=102')).status, 'Free')
  t.same(await get(gw, '/queue.talk.get?num=800'), { nums: ['101'] })
  t.same(await get(gw, '/queue.free.get?num=800'), { nums: ['102', '103'] })
  t.same(await get(gw, '/queue.isfree.get?num=800'), { result: true })
  t.same(await get(gw, '/group.free.get?num=700'), { nums: ['100'] }, '101 is busy in the ring group too')

  const from = gw.sim.ctx.requestLog.length
  for (let i = 0; i < 20; i++) await get(gw, '/pbx.callsinfo.get')
  t.equal(gw.sim.ctx.requestLog.slice(from).filter((r) => r.url.startsWith('/xapi')).length, 0, 'no PBX request per live call')

  const token = await issueToken(gw.sim.url)
  const legs = await (await fetch(`${gw.sim.url}/callcontrol/101/participants`, { headers: { authorization: `Bearer ${token}` } })).json() as Array<{ id: number, callid: number }>
  const leg = legs.find((p) => p.callid === callid)
  t.ok(leg !== undefined, '101 is in the call')
  t.equal((await simPost(gw, `/callcontrol/101/participants/${leg?.id ?? 0}/drop`, {}, token)).status, 200)
  await waitFor('hang-up', 6000, async () => (await get(gw, '/pbx.calls.get')).result === 0 ? true : undefined)
  t.equal((await get(gw, '/ext.state.get?num=101')).status, 'Free')
  t.same(await get(gw, '/pbx.ac.get'), { count: 0, AConnByCallID: [] })
})

t.test('attended transfer 101 → 103: Transferring while 101 consults, Talking once 103 has the caller', async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  t.equal((await simPost(gw, '/_sim/faults', { latencyMs: 250 })).status, 200)
  const callid = await startCall(gw, {
    from: CALLER, to: '+15550101', answer: '101', ringMs: 2500, talkMs: 120_000, hangup: 'caller',
    transfer: { kind: 'attended', to: '103', afterMs: 1500, answer: true }
  })
  const consulting = await waitFor('the consultation', 15_000, async () => {
    // 103 rang as a queue agent before the answer: the consultation is its ringing after it.
    const info = await get(gw, '/pbx.callsinfo.get')
    const c = info.callsInfo[0]
    return c?.answeredAt !== null && c?.routingTo.some((l: any) => l.dnNum === '103') === true ? info : undefined
  })
  t.equal(consulting.callsInfo[0].state, 'Transferring', '101 consults 103')
  t.same(gw.app.gateway.calls.list()[0]?.transfer, { kind: 'consultation', by: '101', target: '103' }, 'the live view names the consultation')

  // 103 talks to the caller: the owner is 103 facing the caller (its leg turned to the customer).
  const done = await waitFor('the transfer done', 15_000, async () => {
    const info = await get(gw, '/pbx.callsinfo.get')
    const c = info.callsInfo[0]
    return c?.owner?.dnNum === '103' && c.owner.externalParty === CALLER ? info : undefined
  })
  t.match(done.callsInfo[0], { callID: callid, state: 'Talking', talkTo: [{ dnNum: '10000' }] }, 'the finished transfer is no longer "Transferring"')
  t.equal(gw.app.gateway.calls.list()[0]?.transfer, null)

  const token = await issueToken(gw.sim.url)
  const legs = await (await fetch(`${gw.sim.url}/callcontrol/103/participants`, { headers: { authorization: `Bearer ${token}` } })).json() as Array<{ id: number, callid: number }>
  const leg = legs.find((p) => p.callid === callid)
  t.equal((await simPost(gw, `/callcontrol/103/participants/${leg?.id ?? 0}/drop`, {}, token)).status, 200)
  await waitFor('hang-up', 6000, async () => (await get(gw, '/pbx.calls.get')).result === 0 ? true : undefined)
})

t.test('makecall: the answer reserves the call id the model then shows', async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  const r = await gw.app.inject({ url: '/makecall?first=104&second=105', headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(r.statusCode, 200, r.body)
  const { chid, id } = r.json()
  t.match(id, /^\d{12}_\d+-0$/)
  const callid = Number(/_(\d+)-/.exec(id)?.[1])
  const call = await waitFor('the call in the model', 5000, async () =>
    (gw.app.gateway.calls.list().find((c) => c.callid === callid)))
  t.equal(call.chid, chid, 'same chain id as the makecall answer')
  t.equal((await get(gw, '/ext.state.get?num=104')).status, 'Busy')
  const posts = gw.sim.ctx.requestLog.filter((x) => x.method === 'POST' && /makecall|MakeCall/.test(x.url))
  t.equal(posts.length, 1, 'exactly one makecall request')
  t.match(posts[0].url, /^\/callcontrol\/104\/makecall/, 'via Call Control for a monitored DN')
})

t.test('makecall: device variant, and the XAPI fallback for a DN Call Control does not monitor', async (t) => {
  const gw = await startAppOnSimulator(t, { liveModel: true })
  const device = encodeURIComponent('sip:106@127.0.0.1:5166')
  const r = await gw.app.inject({ url: `/makecall?first=106&second=107&contact=${device}`, headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(r.statusCode, 200, r.body)
  t.ok(gw.sim.ctx.requestLog.some((x) => x.method === 'POST' && x.url.startsWith('/callcontrol/106/devices/')), 'device makecall')

  gw.sim.ctx.directory.apiClients[0].monitored = ['100']
  const from = gw.sim.ctx.requestLog.length
  const fb = await gw.app.inject({ url: '/makecall?first=108&second=%2B15559870000', headers: { 'x-api-key': CONTROL_KEY } })
  t.equal(fb.statusCode, 200, fb.body)
  t.match(fb.json(), { result: true, chid: /\S/, id: /^\d{12}_\d+-0$/ })
  const posts = gw.sim.ctx.requestLog.slice(from).filter((x) => x.method === 'POST').map((x) => `${x.status} ${x.url}`)
  t.equal(posts.length, 2, 'Call Control refused once, XAPI placed the call once')
  t.match(posts[0], /^40[34] \/callcontrol\/108\/makecall/)
  t.match(posts[1], /^200 \/xapi\/v1\/Users\/Pbx\.MakeCall/)
})
