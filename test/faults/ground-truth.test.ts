// The fault suite's checker on hand-made ground truth: it finds lost, duplicated, out-of-order and
// wrong events, and spares what a blind window hid.
import t from 'tap'
import type { SimCallRecord, SimParty, SimSegment } from '../../src/sim/sim-types.js'
import { callidOfChain, checkDeliveries, expectedEvents, orderProblems, prefixTimeOf, type ReceivedHook } from './lib/ground-truth.js'

const T0 = Date.parse('2026-11-21T10:00:00Z')

function party (dn: string, kind: SimParty['kind'] = 'extension'): SimParty {
  return { dn, kind, displayName: dn, callerNumber: dn, participantId: 1 }
}

function seg (dst: string, answered: boolean, kind: SimParty['kind'] = 'extension', action = answered ? 'answered' : 'missed'): SimSegment {
  return { segmentId: 1, callid: 0, startedAt: new Date(T0), endedAt: new Date(T0 + 5000), answered, talkMs: answered ? 4000 : 0, src: party('10000', 'externalline'), dst: party(dst, kind), action, recordingIds: [] }
}

function call (callid: number, over: Partial<SimCallRecord>): SimCallRecord {
  return {
    callid, chain: `261121100000_${callid}`, kind: 'inbound', from: '+15557654321', to: '+15550101', did: '+15550101', ruleName: 'Sales line',
    startedAt: new Date(T0), answeredAt: new Date(T0 + 1000), endedAt: new Date(T0 + 5000), answeredBy: '101',
    queue: null, transfers: [], segments: [], recordings: [], status: 'ended', ...over
  }
}

let n = 0
function hook (callid: number, body: Record<string, unknown>, at = T0 + 10_000 + n, id = `msg_${++n}`): ReceivedHook {
  return { webhookId: id, at, body: { chid: `261121100000_${callid}`, timestamp: new Date(at).toISOString(), ...body } }
}

const queueAnswered = call(1, {
  queue: { dn: '800', waitMs: 1000, abandoned: false, agentsRung: ['101', '102'], answeredBy: '101' },
  segments: [seg('102', false), seg('800', false, 'queue', 'queue'), seg('101', true)]
})
const blindBack = call(2, {
  to: '+15550102', answeredBy: '102',
  transfers: [{ kind: 'blind', from: '102', to: '103', answered: false }],
  segments: [seg('102', true, 'extension', 'transferred'), seg('103', false), seg('102', true)]
})
const outboundMissed = call(3, { kind: 'outbound', from: '104', to: '+15559870000', answeredAt: null, answeredBy: null, segments: [seg('10000', false, 'externalline')] })

t.test('expected events follow webhooks.md §3', async (t) => {
  t.same(expectedEvents(queueAnswered).map((e) => `${e.event} ${e.user ?? '*'} ${e.finishtype ?? ''}${e.transfer ?? ''}${e.trtype ?? ''}`),
    ['incoming 101 Okfalse', 'hangupincoming 101 NotDef'])
  t.same(expectedEvents(blindBack).filter((e) => e.kind === 'ended').map((e) => `${e.user} transfer=${e.transfer}`), ['102 transfer=true', '102 transfer=false'], 'sequence G')
  t.same(expectedEvents(outboundMissed).map((e) => `${e.event} ${e.user} ${e.finishtype}`), ['outgoing 104 Missed'])
  const missedInQueue = call(4, { answeredAt: null, answeredBy: null, queue: { dn: '800', waitMs: 3000, abandoned: true, agentsRung: [], answeredBy: null }, segments: [seg('101', false), seg('800', false, 'queue', 'abandoned')] })
  t.same(expectedEvents(missedInQueue).map((e) => `${e.event} ${e.user} ${e.finishtype}`), ['incoming 800 Missed'], 'sequence B')
  const attended = call(5, { answeredBy: '103', transfers: [{ kind: 'attended', from: '102', to: '103', answered: true }], segments: [seg('102', true, 'extension', 'transferred'), seg('103', true)] })
  t.match(expectedEvents(attended).find((e) => e.kind === 'started' && e.user === '103'), { trtype: 'Accomp' })
  t.equal(callidOfChain('261121100000_1042'), 1042)
})

t.test('a complete, ordered delivery passes; duplicates are counted, not failed', async (t) => {
  const received = [
    hook(1, { event: 'ringing', user: '800', id: '261121100000_1-0' }),
    hook(1, { event: 'hangupincoming', user: '101', trtype: 'NotDef', callerid: '+15557654321', id: '261121100000_1-1' }),
    hook(1, { event: 'incoming', user: '101', finishtype: 'Ok', transfer: 'false', duration: 4, id: '261121100000_1-1' }, T0 + 20_000, 'msg_end1'),
    hook(1, { event: 'incoming', user: '101', finishtype: 'Ok', transfer: 'false', duration: 4, id: '261121100000_1-1' }, T0 + 21_000, 'msg_end1'),
    hook(3, { event: 'outgoing', user: '104', finishtype: 'Missed', transfer: 'false', duration: 0, id: '261121100000_3-0' })
  ]
  const r = checkDeliveries([queueAnswered, outboundMissed], received, { graceMs: 300 })
  t.same([r.lost, r.outOfOrder, r.wrong], [[], [], []])
  t.equal(r.duplicates, 1)
  t.equal(r.unique, 4)
  t.equal(r.fullyChecked, 2)
})

t.test('lost, wrong, out of order and phantom events are reported', async (t) => {
  const received = [
    hook(1, { event: 'incoming', user: '101', finishtype: 'Ok', transfer: 'false', duration: 4, id: '261121100000_1-1' }),
    hook(1, { event: 'hangupincoming', user: '101', trtype: 'NotDef', callerid: '+15557654321', id: '261121100000_1-1' }),
    hook(2, { event: 'incoming', user: '102', finishtype: 'Missed', transfer: 'false', id: '261121100000_2-1' }),
    hook(99, { event: 'incoming', user: '101', finishtype: 'Ok', transfer: 'false', id: '261121100000_99-1' })
  ]
  const r = checkDeliveries([queueAnswered, blindBack, outboundMissed], received, { graceMs: 300 })
  t.ok(r.outOfOrder.some((f) => f.callid === 1 && /after the call's final/.test(f.what)), 'started after the final ended')
  t.ok(r.lost.some((f) => f.callid === 3 && /no outgoing user=104/.test(f.what)), 'outbound call lost')
  t.ok(r.lost.some((f) => f.callid === 2 && /no hangupincoming user=102/.test(f.what)))
  t.ok(r.wrong.some((f) => f.callid === 2 && /finishtype=Missed \(expected Ok\)/.test(f.what)), 'wrong finishtype')
  t.ok(r.wrong.some((f) => f.callid === 99 && /never played/.test(f.what)), 'phantom call')
})

t.test('blind windows: an end the gateway could not see owes its final event (from the call log); a re-derived event is counted', async (t) => {
  const killedAt = T0 + 4900
  const blind = [{ kind: 'amnesia' as const, from: killedAt, to: killedAt + 2000 }]
  const r1 = checkDeliveries([queueAnswered], [], { graceMs: 300, blind, marginMs: 100 })
  t.equal(r1.unobservable, 1)
  t.match(r1.lost, [{ what: /no incoming user=101 finishtype=Ok/ }], 'only the final call-ended event is owed')
  t.equal(r1.lost.length, 1)
  const r1b = checkDeliveries([queueAnswered], [hook(1, { event: 'incoming', user: '101', finishtype: 'Ok', transfer: 'false', duration: 4, id: '261121100000_1-1' })], { graceMs: 300, blind, marginMs: 100 })
  t.same([r1b.lost, r1b.wrong], [[], []], 'announced from the call log: nothing else owed')
  // A call running across the kill owes only its final ended event; the restarted gateway may re-derive its start,
  // dated from the PBX's record of the call (the same chid), not from when it first saw it again.
  const longCall = call(6, { endedAt: new Date(T0 + 60_000), segments: [seg('101', true)] })
  const started = { event: 'hangupincoming', user: '101', trtype: 'NotDef', callerid: '+15557654321', id: '261121100000_6-1' }
  const r2 = checkDeliveries([longCall], [hook(6, started), hook(6, started)], { graceMs: 300, blind, marginMs: 100 })
  t.match(r2.lost, [{ what: /no incoming user=101/ }], 'the final ended event is still owed')
  t.equal(r2.lost.length, 1)
  t.equal(r2.wrong.length, 0)
  const late = { ...hook(6, {}), body: { ...started, chid: '261121100007_6', id: '261121100007_6-1', timestamp: new Date(T0 + 8000).toISOString() } }
  const r3 = checkDeliveries([longCall], [late], { graceMs: 300, blind, marginMs: 100 })
  t.match(r3.wrong, [{ chid: '261121100007_6', what: /dates the call 7\.0 s from its start/ }], 'a chid dated from when the gateway first saw the call is wrong')
  t.equal(r3.wrong.length, 1)
})

t.test('every value the ground truth knows is compared: trtype, callerid, duration, the chid\'s time', async (t) => {
  const attended = call(7, {
    to: '+15550102', answeredBy: '103',
    transfers: [{ kind: 'attended', from: '102', to: '103', answered: true }],
    segments: [seg('102', true, 'extension', 'transferred'), { ...seg('103', true, 'extension', 'consult'), talkMs: 700 }, { ...seg('103', true), talkMs: 9000 }]
  })
  const chid = '261121100000_7'
  const right = [
    hook(7, { event: 'hangupincoming', user: '102', trtype: 'NotDef', callerid: '+15557654321', id: `${chid}-1` }),
    hook(7, { event: 'incoming', user: '102', finishtype: 'Ok', transfer: 'true', duration: 4, id: `${chid}-1` }),
    hook(7, { event: 'hangupincoming', user: '103', trtype: 'Accomp', callerid: '+15557654321', id: `${chid}-2` }),
    hook(7, { event: 'incoming', user: '103', finishtype: 'Ok', transfer: 'false', duration: 9, id: `${chid}-2` })
  ]
  t.same(checkDeliveries([attended], right, { graceMs: 300 }).wrong, [], 'the consultation is not talk time with the customer')
  const cases: Array<[number, Record<string, unknown>, RegExp]> = [
    [2, { trtype: 'NotDef' }, /hangupincoming user=103: trtype=NotDef \(expected Accomp\)/],
    [2, { trtype: 'Blind' }, /trtype=Blind \(expected Accomp\)/],
    [0, { trtype: 'Accomp' }, /trtype=Accomp \(expected NotDef\)/],
    [2, { callerid: '102' }, /callerid=102 \(expected \+15557654321\)/],
    [3, { duration: 2 }, /incoming user=103: duration=2 \(talked 9\.0 s\)/]
  ]
  for (const [i, change, what] of cases) {
    const got = right.map((h, j) => j === i ? { ...h, body: { ...h.body, ...change } } : h)
    const r = checkDeliveries([attended], got, { graceMs: 300 })
    t.match(r.wrong, [{ what }], JSON.stringify(change))
    t.equal(r.wrong.length, 1)
  }
  t.equal(cases.length, 5)
  const outbound = call(8, { kind: 'outbound', from: '101', to: '+15559870000', answeredBy: '101', segments: [{ ...seg('10000', true, 'externalline'), talkMs: 6500 }] })
  const wrongOut = checkDeliveries([outbound], [
    hook(8, { event: 'hangupoutgoing', user: '101', trtype: 'Blind', callerid: '+15559870000', id: '261121100000_8-1' }),
    hook(8, { event: 'outgoing', user: '101', finishtype: 'Ok', transfer: 'false', duration: 2, id: '261121100000_8-1' })
  ], { graceMs: 300 })
  t.same(wrongOut.wrong.map((f) => f.what.replace(/ \[.*$/, '')), ['outgoing user=101: duration=2 (talked 6.5 s)', 'hangupoutgoing user=101: trtype=Blind (expected NotDef)'])
  t.equal(prefixTimeOf('261205080142_1141'), Date.parse('2026-12-05T08:01:42Z'))
})

t.test('order rules', async (t) => {
  const ts = (s: number): string => new Date(T0 + s * 1000).toISOString()
  t.same(orderProblems([
    { event: 'ringing', user: '102', id: 'x-0', timestamp: ts(1) },
    { event: 'hangupincoming', user: '102', id: 'x-1', timestamp: ts(2) },
    { event: 'incoming', user: '102', id: 'x-1', transfer: 'false', finishtype: 'Ok', timestamp: ts(3) },
    { event: 'recording', id: 'x-1', timestamp: ts(4) }
  ]), [])
  t.equal(orderProblems([
    { event: 'incoming', user: '102', id: 'x-1', transfer: 'true', finishtype: 'Ok', timestamp: ts(3) },
    { event: 'hangupincoming', user: '102', id: 'x-1', timestamp: ts(2) }
  ]).length, 2, 'timestamp went back and started after ended')
  t.same(orderProblems([
    { event: 'hangupincoming', user: '102', id: 'x-1', timestamp: ts(2) },
    { event: 'incoming', user: '102', id: 'x-1', transfer: 'true', finishtype: 'Ok', timestamp: ts(3) },
    { event: 'recording', id: 'x-1', timestamp: ts(6) },
    { event: 'incoming', user: '102', id: 'x-2', transfer: 'false', finishtype: 'Ok', timestamp: ts(5) }
  ]), [], 'a recording of an earlier leg is stamped when its file was ready: later legs may be stamped before it')
  t.same(orderProblems([
    { event: 'recording', id: 'x-1', timestamp: ts(4) },
    { event: 'incoming', user: '102', id: 'x-1', transfer: 'false', finishtype: 'Ok', timestamp: ts(3) }
  ]), ['recording x-1 arrived before its leg\'s call-ended event'])
})

t.test('a call too short to observe under added latency owes its final call-ended event only', async (t) => {
  const short = { minObservableMs: 10_000, graceMs: 300 } // every leg of queueAnswered is shorter
  const none = checkDeliveries([queueAnswered], [], short)
  t.equal(none.tooShort, 1)
  t.match(none.lost, [{ what: /no incoming user=101 finishtype=Ok/ }], 'even unseen, the call log gives its end')
  t.equal(none.lost.length, 1)
  const final = checkDeliveries([queueAnswered], [hook(1, { event: 'incoming', user: '101', finishtype: 'Ok', transfer: 'false', duration: 4, id: '261121100000_1-1' })], short)
  t.same([final.lost, final.wrong, final.fullyChecked], [[], [], 0])
  const wrong = checkDeliveries([queueAnswered], [hook(1, { event: 'incoming', user: '101', finishtype: 'Missed', transfer: 'false', id: '261121100000_1-1' })], short)
  t.match(wrong.wrong, [{ what: /finishtype=Missed \(expected Ok\)/ }], 'and its values are checked')
})
