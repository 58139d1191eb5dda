// The fault rig's catch-up windows (lib/catch-ups.ts): a gateway whose reads fell behind took a
// snapshot instead, and a transfer meanwhile is seen only as its result (a `lag` window), measured
// from its log and the simulator's request log. Every event is still owed; calls outside the window
// are checked in full.
import t from 'tap'
import type { SimCallRecord, SimParty, SimSegment } from '../../src/sim/sim-types.js'
import { CATCH_UP_MESSAGE, catchUpOf, catchUpWindows } from './lib/catch-ups.js'
import { checkDeliveries, type ReceivedHook } from './lib/ground-truth.js'

const T0 = Date.parse('2026-12-07T04:38:25Z')

t.test('the gateway\'s warning gives when it gave up its reads and how far behind they were', async (t) => {
  const line = JSON.stringify({ level: 40, time: T0 + 748, component: 'pbx', api: 'callcontrol', behindMs: 1805, pending: 95, msg: `Call Control: ${CATCH_UP_MESSAGE}` })
  t.same(catchUpOf(line), { at: T0 + 748, behindMs: 1805 })
  t.equal(catchUpOf('{"level":40,"msg":"something else"}'), null)
  t.equal(catchUpOf(`not json ${CATCH_UP_MESSAGE}`), null)
  t.same(catchUpWindows([{ at: T0 + 748, behindMs: 1805 }, { at: T0 + 4908, behindMs: 4160 }], [T0 - 5000, T0 + 3207, T0 + 900], T0 + 9000), [
    { kind: 'lag', from: T0 - 1057, to: T0 + 900 },
    { kind: 'lag', from: T0 + 748, to: T0 + 9000 }
  ], 'until the first snapshot answered after it; until the end without one')
})

function party (dn: string): SimParty {
  return { dn, kind: 'extension', displayName: dn, callerNumber: dn, participantId: 1 }
}

function attended (callid: number, start: number): SimCallRecord {
  const seg = (dn: string, action: string, from: number, talkMs: number): SimSegment => ({
    segmentId: 1, callid, startedAt: new Date(from), endedAt: new Date(from + talkMs), answered: true, talkMs, src: { ...party('10000'), kind: 'externalline' }, dst: party(dn), action, recordingIds: []
  })
  return {
    callid, chain: `261207043825_${callid}`, kind: 'inbound', from: '+15559697271', to: '+15550102', did: '+15550102', ruleName: 'Direct 102',
    startedAt: new Date(start), answeredAt: new Date(start + 200), endedAt: new Date(start + 4400), answeredBy: '112',
    queue: null, transfers: [{ kind: 'attended', from: '102', to: '112', answered: true }],
    segments: [seg('102', 'transferred', start, 1800), seg('112', 'answered', start + 2000, 2400)], recordings: [], status: 'ended'
  }
}

/** What the gateway sent for a call whose consultation it never read: the target first, without its transfer type. */
function consultationUnseen (callid: number, start: number): ReceivedHook[] {
  const chid = `${new Date(start).toISOString().slice(2, 19).replace(/[-T:]/g, '')}_${callid}`
  const at = start + 2700
  const body = (event: string, user: string, link: number, more: Record<string, unknown>): ReceivedHook => ({
    webhookId: `${callid}-${event}-${user}`, at, body: { chid, id: `${chid}-${link}`, event, user, callerid: '+15559697271', timestamp: new Date(at).toISOString(), ...more }
  })
  return [
    body('hangupincoming', '112', 1, { trtype: 'NotDef' }),
    body('hangupincoming', '102', 2, { trtype: 'NotDef' }),
    body('incoming', '102', 2, { finishtype: 'Ok', transfer: 'true', duration: 2 }),
    body('incoming', '112', 1, { finishtype: 'Ok', transfer: 'false', duration: 2 })
  ]
}

t.test('an attended transfer inside a catch-up owes every event but not its transfer type; outside it, that too', async (t) => {
  const inside = attended(1037, T0)
  const outside = attended(1090, T0 + 20_000)
  const hooks = [...consultationUnseen(1037, T0), ...consultationUnseen(1090, T0 + 20_000)]
  const window = catchUpWindows([{ at: T0 + 1000, behindMs: 900 }], [T0 + 2600], T0 + 60_000)
  const seen = checkDeliveries([inside, outside], hooks, { blind: window, graceMs: 1000, marginMs: 300 })
  t.same(seen.wrong.map((f) => `${f.callid} ${f.what.slice(0, 52)}`), ['1090 hangupincoming user=112: trtype=NotDef (expected Acc'], 'the call the gateway could read is still checked in full')
  const before = checkDeliveries([inside, outside], hooks, { blind: [], graceMs: 1000, marginMs: 300 })
  t.same(before.wrong.map((f) => f.callid), [1037, 1090], 'without the measured window the gap is counted as a fault')
  t.equal(seen.fullyChecked, 2, 'both calls are checked for every event')
  const lost = checkDeliveries([inside], hooks.filter((h) => h.body.user !== '102'), { blind: window, graceMs: 1000, marginMs: 300 })
  t.same(lost.lost.map((f) => f.what.slice(0, 24)), ['no incoming user=102 fin', 'no hangupincoming user=1'], 'a lost event inside the window is still lost')
})
