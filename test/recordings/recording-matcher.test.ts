import t from 'tap'
import { decideLeg, isStable, matchXapiRows, parseDirFileName, type LegWindow, type XapiRecordingRow } from '../../src/recordings/recording-matcher.js'
import { legFromCallEvent } from '../../src/recordings/call-hook.js'
import { eventOf, type EndedPayload } from '../../src/calls/call-events.js'

const T0 = Date.parse('2025-03-01T10:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const leg = (over: Partial<LegWindow>): LegWindow => ({ legKey: 'k', dn: '101', callid: 7, participantIds: [3], startedAt: T0, endedAt: T0 + 60_000, ...over })
const row = (over: Partial<XapiRecordingRow>): XapiRecordingRow => ({ Id: 1, StartTime: iso(T0), EndTime: iso(T0 + 60_000), FromDn: '10000', ToDn: '101', RefParticipantId: 3, ...over })

t.test('xapi rows match by RefParticipantId, in recording order', async (t) => {
  const legs = [leg({ legKey: 'a', participantIds: [3] }), leg({ legKey: 'b', participantIds: [9] })]
  const rows = [row({ Id: 2, StartTime: iso(T0 + 30_000), RefParticipantId: 3 }), row({ Id: 1, RefParticipantId: 3 }), row({ Id: 3, RefParticipantId: 9 })]
  const { matched, unidentified } = matchXapiRows(rows, legs, () => false)
  t.equal(matched.size, 2)
  t.same(matched.get('a')?.map((r) => r.Id), [1, 2])
  t.same(matched.get('b')?.map((r) => r.Id), [3])
  t.equal(unidentified.size, 0)
})

t.test('overlapping calls on one extension: each leg gets its own participant\'s rows, whatever the time overlap', async (t) => {
  // A queue agent with call waiting: call 8 (participant 12) overlaps call 7 (participant 3) almost entirely.
  const legs = [
    leg({ legKey: 'call7', callid: 7, participantIds: [3], startedAt: T0, endedAt: T0 + 60_000 }),
    leg({ legKey: 'call8', callid: 8, participantIds: [12], startedAt: T0 + 5_000, endedAt: T0 + 58_000 })
  ]
  const rows = [
    row({ Id: 20, StartTime: iso(T0 + 5_000), EndTime: iso(T0 + 58_000), RefParticipantId: 3 }),
    row({ Id: 21, StartTime: iso(T0), EndTime: iso(T0 + 60_000), RefParticipantId: 12 })
  ]
  const { matched } = matchXapiRows(rows, legs, () => false)
  t.same(matched.get('call7')?.map((r) => r.Id), [20])
  t.same(matched.get('call8')?.map((r) => r.Id), [21])
  // Without Ref, the participant of the recorded side identifies the row.
  const bySide = matchXapiRows([row({ Id: 22, RefParticipantId: null, FromIdParticipant: 1, ToIdParticipant: 12 })], legs, () => false)
  t.same([...bySide.matched.keys()], ['call8'])
})

t.test('without identity nothing is matched by time: the row is held as unidentified', async (t) => {
  const legs = [
    leg({ legKey: 'early', participantIds: [4], startedAt: T0, endedAt: T0 + 10_000 }),
    leg({ legKey: 'late', participantIds: [5], startedAt: T0 + 20_000, endedAt: T0 + 80_000 })
  ]
  const { matched, unidentified } = matchXapiRows([row({ Id: 5, StartTime: iso(T0 + 21_000), EndTime: iso(T0 + 79_000), RefParticipantId: null })], legs, () => false)
  t.equal(matched.size, 0, 'a perfect time overlap is not identity')
  t.same([...unidentified.keys()].sort(), ['early', 'late'])
  const unknownLeg = matchXapiRows([row({ Id: 6, RefParticipantId: 3 })], [leg({ legKey: 'x', participantIds: [] })], () => false)
  t.equal(unknownLeg.matched.size, 0, 'a leg whose participant is not known is never matched')
  t.same(unknownLeg.unidentified.get('x')?.map((r) => r.Id), [6])
  const others = matchXapiRows([row({ Id: 7, RefParticipantId: 99 })], [leg({})], () => false)
  t.equal(others.matched.size + others.unidentified.size, 0, 'another participant\'s row is neither matched nor held for this leg')
  const other = matchXapiRows([row({ Id: 8, ToDn: '102', RefParticipantId: 3 })], [leg({})], () => false)
  t.equal(other.matched.size, 0, 'another extension is never matched')
  const far = matchXapiRows([row({ Id: 9, StartTime: iso(T0 - 3_600_000), EndTime: iso(T0 - 3_500_000), RefParticipantId: 3 })], [leg({})], () => false)
  t.equal(far.matched.size, 0, 'a reused participant id an hour away is not this leg')
})

t.test('claimed rows and rows with bad dates are skipped', async (t) => {
  const m = matchXapiRows([row({ Id: 1 }), row({ Id: 2, StartTime: 'nonsense' }), row({ Id: 3 })], [leg({})], (ref) => ref === 'xapi:1')
  t.same(m.matched.get('k')?.map((r) => r.Id), [3], 'only the unclaimed row with valid dates matches')
  t.equal(m.unidentified.size, 0)
})

t.test('3CX folder file names', async (t) => {
  t.same(parseDirFileName('Tom-Smith-p3-1_+15557654321_20250101120000_1000.wav'), { callid: 1000, stamp: '20250101120000', participantId: 3 })
  t.same(parseDirFileName('Tom-Smith_+15557654321_20250101120000_1000.wav'), { callid: 1000, stamp: '20250101120000', participantId: null })
  t.equal(parseDirFileName('notes.txt'), null)
  t.equal(parseDirFileName('x_2025_1.wav'), null)
})

t.test('a file is complete when unchanged for the stable time', async (t) => {
  const s = { path: 'f', size: 100, mtimeMs: 1000 }
  t.notOk(isStable(s, undefined, 5000, 2000), 'first sighting')
  t.ok(isStable(s, { ...s }, 5000, 2000))
  t.notOk(isStable(s, { ...s, size: 50 }, 5000, 2000), 'still growing')
  t.notOk(isStable(s, { ...s }, 2500, 2000), 'written too recently')
  t.notOk(isStable({ ...s, size: 0 }, { ...s, size: 0 }, 5000, 2000), 'empty')
})

t.test('leg decisions', async (t) => {
  const timing = { settleMs: 3000, giveUpMs: 15000 }
  t.equal(decideLeg(0, 1000, 0, -1, 0, timing), 'wait')
  t.equal(decideLeg(0, 16000, 0, 0, 0, timing), 'unrecorded')
  t.equal(decideLeg(0, 2000, 1, 1, 0, timing), 'wait', 'settle time not over')
  t.equal(decideLeg(0, 3500, 2, 1, 0, timing), 'wait', 'a new file just came')
  t.equal(decideLeg(0, 4000, 2, 2, 0, timing), 'settle')
  t.equal(decideLeg(0, 4000, 1, 1, 1, timing), 'wait', 'one still being written')
  t.equal(decideLeg(0, 16000, 0, 0, 0, timing, 2), 'held', 'files near it that nothing identifies')
  t.equal(decideLeg(0, 4000, 1, 1, 0, timing, 2), 'settle', 'its own files settle; the others are not added')
})

t.test('call events → legs', async (t) => {
  const ended: EndedPayload = {
    event: 'incoming', id: '250301100000_7-1', chid: '250301100000_7', timestamp: iso(T0 + 65_000), callerid: '+1555', user: '101',
    did: 'Sales line', finishtype: 'Ok', transfer: 'false', title: 'x', duration: 65, callername: 'Bob'
  }
  const l = legFromCallEvent({ ...eventOf(ended), participants: [3, 6] })
  t.match(l, { callid: 7, legacyId: '250301100000_7-1', dn: '101', participantIds: [3, 6], startedAt: T0, endedAt: T0 + 65_000, callerName: 'Bob' })
  t.equal(legFromCallEvent(eventOf({ ...ended, finishtype: 'Missed', duration: 0 })), null, 'missed: no recording')
  t.equal(legFromCallEvent(eventOf({ ...ended, id: 'bad' })), null)
  t.equal(legFromCallEvent(eventOf({ event: 'ringing', id: ended.id, chid: ended.chid, timestamp: ended.timestamp, callerid: '1', did: '', user: '101', usertype: 'ext' })), null)
})
