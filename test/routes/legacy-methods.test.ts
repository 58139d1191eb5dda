// Every legacy method in all three URL forms, through app.inject and over real HTTP, against the
// simulator with the real XAPI client. Live calls come from a fixed CallModelView here (the shapes
// during real scripted calls are in legacy-live.test.ts).
import t from 'tap'
import type { LiveCall } from '../../src/calls/live-call.js'
import { CONTROL_KEY, READ_KEY, keyForms, startAppOnSimulator, staticCalls } from '../legacy/legacy-harness.js'
import { CALLER, leg, talkingCall } from '../legacy/call-fixtures.js'

const talking = talkingCall
const ringing: LiveCall = {
  ...talking,
  callid: 46875,
  state: 'Routing',
  answeredAt: null,
  direction: 'FromExternal',
  legs: [leg('102', 'extension', 'Ringing', 9)]
}

const conn = (dnNum: string, dnType: string, status: string): object => ({ dnNum, dnType, externalParty: CALLER, status })

/** method, query, expected body (or a check) — every read method of legacy-api.md §3.1–3.4. */
const READS: Array<[string, string, unknown]> = [
  ['pbx.calls.get', '', { result: 2 }],
  ['pbx.ac.get', '', {
    count: 2,
    AConnByCallID: [
      { callID: 46874, direction: 'Inbound', did: 'Sales line', AConnList: [conn('10000', 'externalline', 'Connected'), conn('101', 'extension', 'Connected')] },
      { callID: 46875, direction: 'FromExternal', did: 'Sales line', AConnList: [conn('102', 'extension', 'Ringing')] }
    ]
  }],
  ['pbx.callsinfo.get', '', {
    count: 2,
    callsInfo: [
      { callID: 46874, state: 'Talking', startedAt: '2026-11-21T08:37:16Z', answeredAt: '2026-11-21T08:37:23Z', did: 'Sales line', owner: conn('101', 'extension', 'Connected'), talkTo: [conn('10000', 'externalline', 'Connected')], routingTo: [] },
      { callID: 46875, state: 'Routing', startedAt: '2026-11-21T08:37:16Z', answeredAt: null, did: 'Sales line', owner: conn('102', 'extension', 'Ringing'), talkTo: [], routingTo: [] }
    ]
  }],
  ['ext.list.get', '', { nums: Array.from({ length: 20 }, (_, i) => String(100 + i)) }],
  ['ext.registered.get', '', { nums: Array.from({ length: 15 }, (_, i) => String(100 + i)) }],
  ['group.list.get', '', { nums: ['700'] }],
  ['queue.list.get', '', { nums: ['800', '801'] }],
  ['ivr.list.get', '', { nums: ['900'] }],
  ['line.list.get', '', { nums: ['10000'] }],
  ['dept.list.get', '', { extGroups: ['DEFAULT', 'Sales', 'Support'] }],
  ['ext.info.get', 'num=101', {
    num: '101', name: 'Tom', lastname: 'Smith', email: 'tom.smith@example.com', mobile: '+15551112001', outboundCallerId: '+15550100',
    enabled: true, departments: ['DEFAULT', 'Sales'], profiles: ['Available', 'Away', 'Out of office', 'Custom 1', 'Custom 2']
  }],
  ['ext.state.get', 'num=101', { num: '101', registered: true, status: 'Busy', fwdName: 'Available', qGlobalStatus: 'LoggedIn', qStatus: [{ num: '800', status: 'LoggedIn' }] }],
  ['ext.state.get', 'num=115', { num: '115', registered: false, status: 'Free', fwdName: 'Available', qGlobalStatus: 'LoggedIn', qStatus: [] }],
  ['queue.members.get', 'num=800', { nums: ['101', '102', '103'] }],
  ['queue.free.get', 'num=800', { nums: ['103'] }],
  ['queue.talk.get', 'num=800', { nums: ['101'] }],
  ['queue.isfree.get', 'num=800', { result: true }],
  ['group.members.get', 'num=700', { nums: ['100', '101'] }],
  ['group.free.get', 'num=700', { nums: ['100'] }]
]

/** Control methods with a request that succeeds on the seed PBX (and keeps it usable). */
const WRITES: Array<[string, string]> = [
  ['ext.fwd.set', 'num=105&status=Available'],
  ['ext.queueglobal.set', 'num=105&log=on'],
  ['ext.queue.set', 'num=105&queue=801&log=on'],
  ['ext.options.set', 'num=105&enabled=on']
]

t.test('every method, three key forms, app.inject and real HTTP', async (t) => {
  const gw = await startAppOnSimulator(t, { calls: staticCalls([talking, ringing]), listen: true })
  const base = `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
  for (const [method, query, expected] of READS) {
    for (const f of keyForms(method, query, READ_KEY)) {
      const injected = await gw.app.inject({ url: f.url, headers: f.headers })
      t.equal(injected.statusCode, 200, `${method} ${f.form} inject`)
      t.match(injected.headers['content-type'], /^application\/json; charset=utf-8/)
      t.same(injected.json(), expected, `${method}?${query} ${f.form} inject`)
      const res = await fetch(base + f.url, { headers: f.headers })
      t.equal(res.status, 200, `${method} ${f.form} http`)
      t.same(await res.json(), expected, `${method}?${query} ${f.form} http`)
    }
  }
  for (const [method, query] of WRITES) {
    for (const f of keyForms(method, query, CONTROL_KEY)) {
      const injected = await gw.app.inject({ url: f.url, headers: f.headers })
      t.same([injected.statusCode, injected.json()], [200, { result: true }], `${method} ${f.form} inject`)
      const res = await fetch(base + f.url, { headers: f.headers })
      t.same([res.status, await res.json()], [200, { result: true }], `${method} ${f.form} http`)
    }
  }
  for (const f of keyForms('makecall', 'first=102&second=%2B1%20555%20987-0000', CONTROL_KEY)) {
    const r = await gw.app.inject({ url: f.url, headers: f.headers })
    t.equal(r.statusCode, 200, `makecall ${f.form}: ${r.body}`)
    t.match(r.json(), { result: true, chid: /^chain-\d+$/, id: /^\d{12}_\d+-0$/ })
  }
})

t.test('gateway information', async (t) => {
  const gw = await startAppOnSimulator(t)
  const expected = { product: '3cx-gateway', version: /^\d+\.\d+\.\d+/, mode: 'pbx', pbx: { url: gw.sim.url, version: /^20\./, reachable: true } }
  for (const url of [`/webapi/${READ_KEY}/`, `/webapi/${READ_KEY}`, `/info?key=${READ_KEY}`]) {
    const r = await gw.app.inject(url)
    t.equal(r.statusCode, 200, url)
    t.match(r.json(), expected)
    t.type(r.json().uptimeS, 'number')
    t.notOk('simulator' in r.json(), 'no simulator outside demo mode')
  }
  t.equal((await gw.app.inject({ url: '/info', headers: { 'x-api-key': READ_KEY } })).statusCode, 200)
  t.equal((await gw.app.inject('/webapi/wrong/')).statusCode, 401)
  t.equal((await gw.app.inject('/info')).statusCode, 401)
})

t.test('gateway information: PBX unreachable, demo mode', async (t) => {
  const gw = await startAppOnSimulator(t)
  gw.app.gateway.config.demo = true
  gw.app.gateway.simulatorUrl = gw.sim.url
  gw.sim.ctx.faults.apply({ down: true })
  const r = await gw.app.inject(`/webapi/${READ_KEY}/`)
  t.equal(r.statusCode, 200)
  t.match(r.json(), { mode: 'demo', simulator: gw.sim.url, pbx: { reachable: false, version: '' } })
  gw.sim.ctx.faults.apply({})
})

t.test('unknown methods and entities: JSON 404 in every form', async (t) => {
  const gw = await startAppOnSimulator(t)
  const notFound: Array<[string, string]> = [
    ['ext.state.get?num=999', 'EXT_NOT_FOUND'], ['ext.state.get?num=999', 'EXT_NOT_FOUND'], ['ext.info.get?num=999', 'EXT_NOT_FOUND'],
    ['queue.members.get?num=899', 'QUEUE_NOT_FOUND'], ['queue.free.get?num=700', 'QUEUE_NOT_FOUND'], ['queue.talk.get?num=899', 'QUEUE_NOT_FOUND'],
    ['queue.isfree.get?num=899', 'QUEUE_NOT_FOUND'], ['group.members.get?num=800', 'GROUP_NOT_FOUND'], ['group.free.get?num=799', 'GROUP_NOT_FOUND']
  ]
  for (const [url, code] of notFound) {
    const r = await gw.app.inject({ url: `/${url}`, headers: { 'x-api-key': READ_KEY } })
    t.same([r.statusCode, r.json().result, r.json().error.code], [404, false, code], url)
  }
  for (const f of [...keyForms('pbx.nothing.get', '', READ_KEY), { form: 'no key', url: '/webapi/x/ext.nothing.set', headers: {} }]) {
    const r = await gw.app.inject({ url: f.url, headers: f.headers })
    t.equal(r.statusCode, 404, f.form)
    t.equal(r.json().error.code, 'UNKNOWN_METHOD')
    t.notOk(r.body.includes(READ_KEY))
  }
})
