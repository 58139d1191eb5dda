// A call whose answering leg came and went before its read (data-dir.test.ts under load, 2026-12-07:
// a starved gateway read a whole 0.9 s call's events at once; every agent leg was gone by its read,
// 404, and only the caller's leg was read, Connected to 103). The caller's leg connected to an
// extension the gateway never read a leg of is an answer it may have missed: the call's end is the
// PBX's record's to tell, not "Missed". Model on fake time.
import t from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import { CALLER, T0, participant } from './participant-script.js'
import { FakeClock } from '../fake-clock.js'

const CALLID = 1079
const brief = (e: CallEvent): string => {
  const p = e.payload as unknown as Record<string, unknown>
  return [p.event, p.user, p.trtype, p.finishtype, p.transfer, p.duration].filter((x) => x !== undefined).join(' ')
}
const trunkTo103 = participant('10000', 273, CALLID, { status: 'Connected', party_dn: '103', party_dn_type: 'Wextension', party_caller_id: CALLER })

t.test('only the caller\'s leg was read, connected to 103: the end comes from the call log, answered', async (t) => {
  const clock = new FakeClock(T0 + 1000)
  const lookups: number[] = []
  const record: PbxCallRecord = {
    callid: CALLID,
    conversations: [{ user: '103', answeredAt: T0 + 300, endedAt: T0 + 900, talkSeconds: 0.6, trtype: 'NotDef' }],
    waitedIn: { dn: '800', dnType: 'Wqueue' },
    endedAt: T0 + 900
  }
  const events: CallEvent[] = []
  const lookup = async (q: { callid: number }): Promise<PbxCallRecord> => { lookups.push(q.callid); return record }
  const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, callRecords: lookup, onEvent: (e) => { events.push(e) } })
  t.teardown(() => { m.stop() })
  m.apply({ kind: 'upsert', participant: trunkTo103, dnType: 'Wexternalline', at: T0 + 900 })
  m.apply({ kind: 'remove', dn: '10000', id: 273, at: T0 + 900 })
  // The agents' reads found them gone: removes of legs the model never knew.
  for (const [dn, id] of [['800', 274], ['101', 275], ['103', 277]] as const) m.apply({ kind: 'remove', dn, id, at: clock.now(), uncertain: true })
  await clock.advance(1000)
  t.same(lookups, [CALLID], 'its end is looked up in the call log')
  t.same(events.map(brief), ['hangupincoming 103 NotDef', 'incoming 103 Ok false 1'], 'answered by 103, from the record')
  t.equal(m.endsOwed(), 0)
})

t.test('the caller\'s leg read before its callee\'s (reads race): nothing is left unsure', async (t) => {
  const tracker = new CallTracker({ callid: CALLID, chid: '261207043814_1079', graceMs: 300 })
  tracker.upsert(trunkTo103, 'Wexternalline', T0)
  const callee = participant('103', 277, CALLID, { status: 'Connected', party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: CALLER })
  t.same(tracker.upsert(callee, 'Wextension', T0 + 50).map(brief), ['hangupincoming 103 NotDef'])
  tracker.remove('103', 277, T0 + 2000)
  tracker.remove('10000', 273, T0 + 2000)
  t.notOk(tracker.awaitsReconciliation(T0 + 3000), 'ended as seen')
  t.same(tracker.expire(T0 + 3000).map(brief), ['incoming 103 Ok false 2'])
})

t.test('a blind transfer\'s target seen ringing: the caller\'s leg connected to it is no unseen answer', async (t) => {
  const tracker = new CallTracker({ callid: CALLID, chid: '261207043814_1079', graceMs: 300 })
  const target = participant('103', 5, CALLID, { status: 'Ringing', party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: CALLER })
  tracker.upsert(target, 'Wextension', T0)
  tracker.upsert(trunkTo103, 'Wexternalline', T0 + 10)
  tracker.remove('103', 5, T0 + 1000)
  tracker.remove('10000', 273, T0 + 1000)
  t.notOk(tracker.awaitsReconciliation(T0 + 2000))
  t.same(tracker.expire(T0 + 2000).map(brief), ['incoming 103 Missed false 0'])
})

// tenant-faults (CI, 2026-12-07): a queue call's first call on a just-started replica, its reads
// behind: the caller's leg was read waiting in queue 800, every agent leg's read found it gone (101
// answered and hung up between two reads), and the call was announced `incoming 800 Missed`.
const trunkTo800 = participant('10000', 300, CALLID, { status: 'Ringing', party_dn: '800', party_dn_type: 'Wqueue', party_caller_id: CALLER })
const queueLeg = participant('800', 301, CALLID, { status: 'Connected', party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: CALLER })
const queueCall = (unreadAgents: ReadonlyArray<readonly [string, number]>, record: PbxCallRecord | null): { events: CallEvent[], lookups: number[], clock: FakeClock, m: CallModel } => {
  const clock = new FakeClock(T0)
  const lookups: number[] = []
  const events: CallEvent[] = []
  const lookup = async (q: { callid: number }): Promise<PbxCallRecord | null> => { lookups.push(q.callid); return record }
  const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, callRecords: lookup, onEvent: (e) => { events.push(e) } })
  m.apply({ kind: 'upsert', participant: trunkTo800, dnType: 'Wexternalline', at: T0 })
  m.apply({ kind: 'upsert', participant: queueLeg, dnType: 'Wqueue', at: T0 })
  for (const [dn, id] of unreadAgents) m.apply({ kind: 'remove', dn, id, at: T0 + 1200, uncertain: true })
  m.apply({ kind: 'remove', dn: '800', id: 301, at: T0 + 1300 })
  m.apply({ kind: 'remove', dn: '10000', id: 300, at: T0 + 1500 })
  return { events, lookups, clock, m }
}

t.test('a queue call whose agent legs all went unread: not Missed on what was seen, its record decides', async (t) => {
  const record: PbxCallRecord = {
    callid: CALLID,
    conversations: [{ user: '101', answeredAt: T0 + 600, endedAt: T0 + 1400, talkSeconds: 0.8, trtype: 'NotDef' }],
    waitedIn: { dn: '800', dnType: 'Wqueue' },
    endedAt: T0 + 1400
  }
  const { events, lookups, clock, m } = queueCall([['101', 302], ['102', 303], ['103', 304]], record)
  t.teardown(() => { m.stop() })
  await clock.advance(2000)
  t.same(lookups, [CALLID], 'its end is looked up in the call log')
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), ['hangupincoming 101 NotDef', 'incoming 101 Ok false 1'], 'answered by 101, from the record')
  t.equal(m.endsOwed(), 0)
})

t.test('a queue call nobody answered, every leg read: Missed at once, no lookup', async (t) => {
  const { events, lookups, clock, m } = queueCall([], null)
  t.teardown(() => { m.stop() })
  await clock.advance(2000)
  t.same(lookups, [], 'nothing to look up')
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), ['incoming 800 Missed false 0'])
})

t.test('unread legs that went before the call began do not make its end unsure', async (t) => {
  const clock = new FakeClock(T0 - 5000)
  const lookups: number[] = []
  const events: CallEvent[] = []
  const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, callRecords: async (q) => { lookups.push(q.callid); return null }, onEvent: (e) => { events.push(e) } })
  t.teardown(() => { m.stop() })
  m.apply({ kind: 'remove', dn: '101', id: 90, at: T0 - 5000, uncertain: true })
  await clock.advance(5000)
  m.apply({ kind: 'upsert', participant: trunkTo800, dnType: 'Wexternalline', at: T0 })
  m.apply({ kind: 'remove', dn: '10000', id: 300, at: T0 + 1500 })
  await clock.advance(2000)
  t.same(lookups, [])
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), ['incoming 800 Missed false 0'])
})
