// A blind transfer whose transferor the gateway never read (tenant-faults on a loaded machine,
// 2026-12-07: t5, 102 → 106): 102 answered the caller, talked 0.75 s and blind-transferred the call to
// 106, all while the gateway's reads had fallen behind; the catch-up snapshot showed only the caller
// and 106 ringing, referred by 102. 106's conversation was announced (Blind), 102's never: the call's
// end must come from the PBX's record, which has 102's conversation. Likewise an attended transfer whose
// consultation and target were gone by their reads (data-dir under load, the same day). Model on fake time.
import t, { type Test } from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import type { ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import { CALLER, T0, changesOf, transferBrief } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

const CALLID = 1002
const GRACE_MS = 300

const brief = transferBrief

/** 102 answers the caller (the trunk's leg p1, 102's leg p2). */
const ANSWERED_BY_102 = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
  '+102#p2 Connected ; +10000#p1 Connected'
]

/** A model on fake time whose call-log lookups answer `record`; `play` applies changes at their times. */
function modelOf (t: Test, record: PbxCallRecord | null): { m: CallModel, clock: FakeClock, events: CallEvent[], lookups: number[], play: (changes: readonly ParticipantChange[]) => Promise<void> } {
  const clock = new FakeClock(T0)
  const events: CallEvent[] = []
  const lookups: number[] = []
  const m = new CallModel({
    timeZone: 'UTC',
    graceMs: GRACE_MS,
    internalCalls: true,
    clock,
    callTimes: async () => new Map(),
    callRecords: async (q) => { lookups.push(q.callid); return record },
    onEvent: (e) => { events.push(e) }
  })
  t.teardown(() => { m.stop() })
  const play = async (changes: readonly ParticipantChange[]): Promise<void> => {
    for (const c of changes) {
      await clock.advance(c.at - clock.now())
      m.apply(c)
    }
  }
  return { m, clock, events, lookups, play }
}

t.test('a blind transfer by an extension never read: its conversation comes from the PBX\'s record at the end', async (t) => {
  const seen = ANSWERED_BY_102.slice(0, 1)
  // Read too late: everything 102 did, and 106's ringing.
  const lagged = [
    ...ANSWERED_BY_102.slice(1),
    'wait 750',
    '-102#p2',
    `+106#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension ; +10000#p1 Connected party_dn=106`,
    'wait 100'
  ]
  const after = ['+106#p3 Connected', 'wait 1000', '-106#p3 ; -10000#p1']
  const all = changesOf([...seen, ...lagged, ...after], CALLID)
  const nSeen = changesOf(seen, CALLID).length
  const nLagged = changesOf([...seen, ...lagged], CALLID).length
  const at = (test: (c: ParticipantChange) => boolean): number => all.find(test)?.at ?? 0
  const answered102 = at((c) => c.kind === 'upsert' && c.participant.dn === '102' && c.participant.status === 'Connected')
  const left102 = at((c) => c.kind === 'remove' && c.dn === '102')
  const answered106 = at((c) => c.kind === 'upsert' && c.participant.dn === '106' && c.participant.status === 'Connected')
  const ended = all[all.length - 1].at
  const record: PbxCallRecord = {
    callid: CALLID,
    conversations: [
      { user: '102', answeredAt: answered102, endedAt: left102, talkSeconds: 1, trtype: 'NotDef' },
      { user: '106', answeredAt: answered106, endedAt: ended, talkSeconds: 1, trtype: 'Blind' }
    ],
    waitedIn: null,
    endedAt: ended
  }
  const { m, clock, events, lookups, play } = modelOf(t, record)
  await play(all.slice(0, nSeen))
  // The reads fell behind: one catch-up snapshot replaces them, then the changes after it are read live.
  await clock.advance(all[nLagged - 1].at - clock.now())
  m.apply(snapshotAfter(all.slice(0, nLagged), clock.now()))
  await play(all.slice(nLagged))
  await clock.advance(5000)
  t.equal(m.endsOwed(), 0, 'the call is ended')
  t.ok(lookups.length > 0 && lookups.every((id) => id === CALLID), 'its end is looked up in the call log')
  const told = events.filter((e) => e.type !== 'ringing').map(brief)
  t.ok(told.includes('hangupincoming 102 NotDef') && told.includes('incoming 102 Ok transfer=true'), `102's conversation is told: ${told.join(' | ')}`)
  t.equal(told.at(-1), 'incoming 106 Ok transfer=false', '106 ended the call, last')
  t.equal(told.filter((e) => e.startsWith('hangupincoming 106')).length, 1, '106\'s start told once')
  t.equal(told.length, new Set(told).size, 'nothing told twice')
  const stamps = events.map((e) => Date.parse(String(e.payload.timestamp)))
  t.same(stamps, [...stamps].sort((a, b) => a - b), 'timestamps never go back')
})

t.test('an attended transfer inside a catch-up: the target\'s legs were gone by their reads; the record tells it took the call', async (t) => {
  // data-dir under load (2026-12-07): 102 talked, consulted 114 and transferred to it while the reads
  // lagged; 102's consultation leg and 114's legs were gone by their reads (404), and the call emptied.
  // Before, 102's conversation ended as the call's final one (transfer=false) and 114 was never told.
  const record: PbxCallRecord = {
    callid: 1063,
    conversations: [
      { user: '102', answeredAt: T0 + 100, endedAt: T0 + 1900, talkSeconds: 2, trtype: 'NotDef' },
      { user: '114', answeredAt: T0 + 1900, endedAt: T0 + 2600, talkSeconds: 1, trtype: 'Accomp' }
    ],
    waitedIn: null,
    endedAt: T0 + 2600
  }
  const { m, clock, events, lookups, play } = modelOf(t, record)
  await play(changesOf(ANSWERED_BY_102, 1063))
  await clock.advance(T0 + 2600 - clock.now())
  // The reads of the consultation and of 114 found them gone; then the removes of 102 and the caller.
  for (const [dn, id] of [['102', 4], ['114', 5]] as const) m.apply({ kind: 'remove', dn, id, at: clock.now(), uncertain: true })
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 1900 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 2600 })
  await clock.advance(5000)
  t.equal(m.endsOwed(), 0, 'the call is ended')
  t.ok(lookups.length > 0 && lookups.every((id) => id === 1063), 'its end is looked up in the call log')
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), [
    'hangupincoming 102 NotDef',
    'incoming 102 Ok transfer=true',
    'hangupincoming 114 Accomp',
    'incoming 114 Ok transfer=false'
  ], '102 transferred the call, 114 ended it')
})

t.test('a read that found a leg of another call gone while the conversation went on: the call ends as seen', async (t) => {
  const { m, clock, events, lookups, play } = modelOf(t, null)
  await play(changesOf(ANSWERED_BY_102, 1064))
  await clock.advance(500)
  m.apply({ kind: 'remove', dn: '120', id: 9, at: clock.now(), uncertain: true }) // some ring-all agent's leg, gone by its read
  await clock.advance(1400)
  m.apply({ kind: 'remove', dn: '102', id: 2, at: clock.now() })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: clock.now() })
  await clock.advance(5000)
  t.equal(m.endsOwed(), 0, 'the call is ended')
  t.same(lookups, [], 'not looked up in the call log')
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), ['hangupincoming 102 NotDef', 'incoming 102 Ok transfer=false'], 'as seen')
})
