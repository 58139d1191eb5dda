// Ending a call whose end fell into a gap: the pure decisions (planReconciledEnd), the call-log
// interpretation (pbxCallRecordOf) and the tracker that turns both into webhook events.
import t from 'tap'
import { planReconciledEnd, type KnownCall } from '../../src/calls/call-reconciliation.js'
import { callRecordRequest, isoSeconds, pbxCallRecordOf, type PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import type { CallLogRow } from '../../src/pbx/call-log-query.js'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import { CALLER, T0, changesOf, queueRinging } from './participant-script.js'

const AT = T0 + 10_000
const record = (over: Partial<PbxCallRecord>): PbxCallRecord => ({ callid: 7, conversations: [], waitedIn: null, endedAt: AT, ...over })
const conv = (user: string, answeredAt: number, talkSeconds: number, trtype: 'NotDef' | 'Blind' | 'Accomp' = 'NotDef') =>
  ({ user, answeredAt, endedAt: answeredAt + talkSeconds * 1000, talkSeconds, trtype })
const nothingKnown: KnownCall = { talks: [], maxLink: 0, lastAnsweredLink: 0, vanishedLinks: { 800: 0, 101: 0, 102: 0 } }

t.test('planReconciledEnd', async (t) => {
  t.test('answered during the gap: started (link 1) then ended with the PBX talk time', async (t) => {
    t.same(planReconciledEnd(nothingKnown, record({ conversations: [conv('101', AT - 5000, 4)] })), [
      { kind: 'started', user: '101', link: 1, trtype: 'NotDef', at: AT - 5000 },
      { kind: 'ended', user: '101', link: 1, transfer: false, seconds: 4, at: AT - 1000 }
    ])
  })
  t.test('missed during the gap: one Missed end, at the queue the PBX names', async (t) => {
    t.same(planReconciledEnd(nothingKnown, record({ waitedIn: { dn: '800', dnType: 'Wqueue' } })), [{ kind: 'missed', dn: '800', dnType: 'Wqueue', at: AT }])
    t.same(planReconciledEnd(nothingKnown, record({})), [{ kind: 'missed', dn: null, dnType: 'None', at: AT }], 'no queue: the model says where')
  })
  t.test('transferred during the gap: the known talk ends as transferred, the target gets the link it rang in', async (t) => {
    const known: KnownCall = { talks: [{ user: '102', link: 1, ended: false }], maxLink: 2, lastAnsweredLink: 1, vanishedLinks: { 102: 1, 103: 2 } }
    t.same(planReconciledEnd(known, record({ conversations: [conv('102', AT - 9000, 3), conv('103', AT - 5000, 4, 'Blind')] })), [
      { kind: 'ended', user: '102', link: 1, transfer: true, seconds: 3, at: AT - 6000 },
      { kind: 'started', user: '103', link: 2, trtype: 'Blind', at: AT - 5000 },
      { kind: 'ended', user: '103', link: 2, transfer: false, seconds: 4, at: AT - 1000 }
    ])
  })
  t.test('a transfer the gateway never saw ringing opens the next link; announced ends are not repeated', async (t) => {
    const known: KnownCall = { talks: [{ user: '102', link: 1, ended: true }], maxLink: 1, lastAnsweredLink: 1, vanishedLinks: {} }
    t.same(planReconciledEnd(known, record({ conversations: [conv('102', AT - 9000, 3), conv('103', AT - 5000, 4, 'Accomp')] })), [
      { kind: 'started', user: '103', link: 2, trtype: 'Accomp', at: AT - 5000 },
      { kind: 'ended', user: '103', link: 2, transfer: false, seconds: 4, at: AT - 1000 }
    ])
  })
  t.test('an announced talk the record lacks ends first, as transferred, with the model\'s times', async (t) => {
    const known: KnownCall = { talks: [{ user: '104', link: 1, ended: false }], maxLink: 1, lastAnsweredLink: 1, vanishedLinks: {} }
    const plan = planReconciledEnd(known, record({ conversations: [conv('103', AT - 5000, 4)] }))
    t.match(plan, [{ kind: 'ended', user: '104', transfer: true, seconds: null }, { kind: 'started', user: '103', link: 2 }, { kind: 'ended', user: '103', transfer: false }])
  })
  t.test('the PBX says unanswered but the gateway saw an answer: no plan (the model decides)', async (t) => {
    t.equal(planReconciledEnd({ talks: [{ user: '101', link: 1, ended: false }], maxLink: 1, lastAnsweredLink: 1, vanishedLinks: {} }, record({})), null)
  })
})

const row = (over: CallLogRow): CallLogRow => ({ CallId: 7, Answered: false, RingingDuration: 'PT0S', TalkingDuration: 'PT0S', Reason: 'missed', ActionType: 2, ...over })
const iso = (ms: number): string => new Date(ms).toISOString()

t.test('a blind transfer nobody answered, the call taken back: one conversation in legacy terms, ended twice', async (t) => {
  const rows = [
    row({ StartTime: iso(T0), SourceDn: '10000', SourceType: 1, DestinationDn: '102', DestinationType: 0, Answered: true, RingingDuration: 'PT1S', TalkingDuration: 'PT2S', Reason: 'transferred', ActionType: 5 }),
    row({ StartTime: iso(T0 + 3000), SourceDn: '10000', SourceType: 1, DestinationDn: '105', DestinationType: 0, RingingDuration: 'PT2S', Reason: 'missed' }),
    row({ StartTime: iso(T0 + 5000), SourceDn: '10000', SourceType: 1, DestinationDn: '102', DestinationType: 0, Answered: true, TalkingDuration: 'PT3S', Reason: 'answered', ActionType: 1 })
  ]
  const back = pbxCallRecordOf(7, rows)
  t.same(back?.conversations.map((c) => `${c.user} ${c.trtype} ${c.talkSeconds}${c.returned === true ? ' returned' : ''}`), ['102 NotDef 2', '102 NotDef 3 returned'], 'not merged across the transfer')
  const rec = back as PbxCallRecord
  const first = { user: '102', link: 1 }
  t.same((planReconciledEnd(nothingKnown, rec) ?? []).map((s) => `${s.kind} ${'user' in s ? s.user : ''} ${'link' in s ? s.link : ''} ${'transfer' in s ? String(s.transfer) : ''}`), [
    'started 102 1 ', 'ended 102 1 true', 'ended 102 1 false'
  ], 'nothing seen: started, ended at the transfer, ended at the end, one link')
  const known = (talks: KnownCall['talks']): KnownCall => ({ talks, maxLink: 2, lastAnsweredLink: 1, vanishedLinks: {} })
  t.same(planReconciledEnd(known([{ ...first, ended: true }]), rec), [{ kind: 'ended', user: '102', link: 1, transfer: false, seconds: 3, at: T0 + 8000 }], 'the transfer was seen: only the final end')
  t.same((planReconciledEnd(known([{ ...first, ended: false }]), rec) ?? []).map((s) => s.kind === 'ended' ? `${String(s.transfer)} ${String(s.seconds)}` : s.kind), ['true 2', 'false 3'], 'the transfer unseen: both ends')
  t.same((planReconciledEnd(known([{ ...first, ended: true }, { ...first, ended: false }]), rec) ?? []).map((s) => s.kind === 'ended' ? `${String(s.transfer)} ${String(s.seconds)}` : s.kind), ['false 3'], 'both seen (ended, then taken back): the final end once')

  // The tracker reopens the conversation it had ended at the transfer.
  const { tracker } = trackerAfterGap([`+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`, `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`, '+102#p2 Connected ; +10000#p1 Connected'], T0 + 9000)
  t.same(tracker.endWithRecord(rec, T0 + 9500).map(brief), [
    'incoming 102 261121083716_7-1 finishtype=Ok transfer=true duration=2',
    'incoming 102 261121083716_7-1 finishtype=Ok transfer=false duration=3'
  ])
})

t.test('a blind transfer still unresolved when the call ends: the call log says whether it was taken back (soak regression)', async (t) => {
  const { tracker, events } = play([
    `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
    `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    '+102#p2 Connected ; +10000#p1 Connected',
    `-102#p2 ; +105#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension`,
    '-105#p3',
    '-10000#p1' // the return to 102 was never seen
  ])
  const end = T0 + 80 // the last remove (changesOf steps 10 ms)
  t.notOk(tracker.awaitsReconciliation(end + 299))
  t.ok(tracker.awaitsReconciliation(end + 300))
  events.push(...tracker.endWithRecord(record({ conversations: [conv('102', T0 + 20, 2), { ...conv('102', T0 + 40, 3), returned: true }] }), end + 400))
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), [
    'hangupincoming 102 261121083716_7-1 trtype=NotDef',
    'incoming 102 261121083716_7-1 finishtype=Ok transfer=true duration=0',
    'incoming 102 261121083716_7-1 finishtype=Ok transfer=false duration=3'
  ])
})

t.test('pbxCallRecordOf: call-log rows → conversations', async (t) => {
  t.equal(pbxCallRecordOf(7, []), null, 'no rows yet: no record')
  t.equal(isoSeconds('PT1H2M5S'), 3725)
  t.equal(isoSeconds('bad'), 0)
  const queueAnswered = pbxCallRecordOf(7, [
    row({ StartTime: iso(T0), SourceDn: '10000', SourceType: 1, DestinationDn: '800', DestinationType: 4, RingingDuration: 'PT3S', Reason: 'queue' }),
    row({ StartTime: iso(T0 + 100), SourceDn: '10000', SourceType: 1, DestinationDn: '102', DestinationType: 0, RingingDuration: 'PT3S' }),
    row({ StartTime: iso(T0 + 100), SourceDn: '10000', SourceType: 1, DestinationDn: '101', DestinationType: 0, Answered: true, RingingDuration: 'PT3S', TalkingDuration: 'PT1M5S', Reason: 'answered', ActionType: 1 }),
    row({ CallId: 8, StartTime: iso(T0), SourceDn: '10000', SourceType: 1, DestinationDn: '103', DestinationType: 0, Answered: true, TalkingDuration: 'PT9S' })
  ])
  t.same(queueAnswered?.conversations, [{ user: '101', answeredAt: T0 + 3100, endedAt: T0 + 68_100, talkSeconds: 65, trtype: 'NotDef' }], 'another call\'s rows are ignored')
  t.same(queueAnswered?.waitedIn, { dn: '800', dnType: 'Wqueue' })

  const blind = pbxCallRecordOf(7, [
    row({ StartTime: iso(T0), SourceDn: '10000', SourceType: 1, DestinationDn: '102', DestinationType: 0, Answered: true, RingingDuration: 'PT1S', TalkingDuration: 'PT2S', Reason: 'transferred', ActionType: 5 }),
    row({ StartTime: iso(T0 + 3000), SourceDn: '10000', SourceType: 1, DestinationDn: '103', DestinationType: 0, Answered: true, RingingDuration: 'PT1S', TalkingDuration: 'PT4S', Reason: 'answered', ActionType: 1 })
  ])
  t.same(blind?.conversations.map((c) => `${c.user} ${c.trtype} ${c.talkSeconds}`), ['102 NotDef 2', '103 Blind 4'])

  const attended = pbxCallRecordOf(7, [
    row({ StartTime: iso(T0), SourceDn: '10000', SourceType: 1, DestinationDn: '102', DestinationType: 0, Answered: true, TalkingDuration: 'PT5S', Reason: 'transferred', ActionType: 5 }),
    row({ StartTime: iso(T0 + 2000), SourceDn: '102', SourceType: 0, DestinationDn: '103', DestinationType: 0, Answered: true, RingingDuration: 'PT1S', TalkingDuration: 'PT1S', Reason: 'consult' }),
    row({ StartTime: iso(T0 + 4000), SourceDn: '10000', SourceType: 1, DestinationDn: '103', DestinationType: 0, Answered: true, TalkingDuration: 'PT6S', Reason: 'answered', ActionType: 1 })
  ])
  t.same(attended?.conversations.map((c) => `${c.user} ${c.trtype} ${c.talkSeconds}`), ['102 NotDef 5', '103 Accomp 6'], 'the consultation is not talk time with the customer')

  const outbound = pbxCallRecordOf(7, [
    row({ StartTime: iso(T0), SourceDn: '101', SourceType: 0, DestinationDn: '10000', DestinationType: 1, Answered: true, RingingDuration: 'PT2S', TalkingDuration: 'PT7S', Reason: 'answered', ActionType: 1 })
  ])
  t.same(outbound?.conversations.map((c) => `${c.user} ${c.talkSeconds}`), ['101 7'], 'outbound: the calling extension talks')

  const req = callRecordRequest({ callid: 1051, seenFrom: T0, until: T0 + 60_000 })
  t.match(req.path, /^ReportCallLogData\/Pbx\.GetCallLogData\(periodFrom=2026-11-21T08:22:16Z,periodTo=2026-11-21T08:39:16Z,sourceType=0,/)
  t.equal(req.query.filter, 'CallId eq 1051')
})

function brief (e: CallEvent): string {
  const p = e.payload as WebhookPayload & Record<string, unknown>
  const parts = [String(p.event), String(p.user), String(p.id)]
  for (const k of ['trtype', 'finishtype', 'transfer', 'duration']) if (p[k] !== undefined) parts.push(`${k}=${String(p[k])}`)
  return parts.join(' ')
}

const QUEUE_RINGING = queueRinging(['101', '102'])

/** Plays script lines (call 7) into `tracker` (a new one by default) from `start`; returns it with the events. */
function play (lines: string[], tracker = new CallTracker({ callid: 7, chid: '261121083716_7', graceMs: 300 }), start = T0, events: CallEvent[] = []): { tracker: CallTracker, events: CallEvent[] } {
  for (const c of changesOf(lines, 7, start)) {
    if (c.kind === 'upsert') events.push(...tracker.upsert(c.participant, c.dnType, c.at))
    else if (c.kind === 'remove') events.push(...tracker.remove(c.dn, c.id, c.at))
  }
  return { tracker, events }
}

/** Plays the lines, then removes every leg as a snapshot would (unobserved) at `gapAt`. */
function trackerAfterGap (lines: string[], gapAt: number): { tracker: CallTracker, events: CallEvent[] } {
  const { tracker, events } = play(lines)
  for (const key of [...tracker.legKeys()]) {
    const [dn, id] = key.split('#')
    events.push(...tracker.remove(dn, Number(id), gapAt, true))
  }
  return { tracker, events }
}

t.test('CallTracker.endWithRecord', async (t) => {
  t.test('queue call answered in the gap: no Missed, the answer and the end are reported', async (t) => {
    const { tracker, events } = trackerAfterGap(QUEUE_RINGING, AT)
    t.notOk(tracker.awaitsReconciliation(AT + 299), 'waits for the grace period first')
    t.ok(tracker.awaitsReconciliation(AT + 300))
    events.push(...tracker.endWithRecord(record({ conversations: [conv('101', AT - 8000, 6)], waitedIn: { dn: '800', dnType: 'Wqueue' } }), AT + 400))
    t.same(events.map(brief), [
      'ringing 800 261121083716_7-0', 'ringing 101 261121083716_7-0', 'ringing 102 261121083716_7-0',
      'hangupincoming 101 261121083716_7-1 trtype=NotDef',
      'incoming 101 261121083716_7-1 finishtype=Ok transfer=false duration=6'
    ])
    const stamps = events.map((e) => Date.parse(e.payload.timestamp))
    t.same([...stamps].sort((a, b) => a - b), stamps, 'timestamps never go back (PBX times are clamped)')
    t.ok(tracker.finished)
  })
  t.test('missed in the gap: Missed at the queue', async (t) => {
    const { tracker } = trackerAfterGap(QUEUE_RINGING, AT)
    t.same(tracker.endWithRecord(record({ waitedIn: { dn: '800', dnType: 'Wqueue' } }), AT + 400).map(brief), ['incoming 800 261121083716_7-0 finishtype=Missed transfer=false duration=0'])
  })
  t.test('outbound answered in the gap: hangupoutgoing then outgoing Ok', async (t) => {
    const { tracker } = trackerAfterGap([
      '+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+15559870000',
      '+10000#p2 Dialing party_dn=101 party_dn_type=Wextension party_caller_id=+15559870000'
    ], AT)
    const events = tracker.endWithRecord(record({ conversations: [conv('101', AT - 3000, 2)] }), AT + 400)
    t.same(events.map(brief), ['hangupoutgoing 101 261121083716_7-1 trtype=NotDef', 'outgoing 101 261121083716_7-1 finishtype=Ok transfer=false duration=2'])
    t.equal((events[0].payload as unknown as Record<string, unknown>).callerid, '+15559870000')
  })
  t.test('talking before the gap, transferred in it: transfer=true, then the target', async (t) => {
    const { tracker, events } = trackerAfterGap([...QUEUE_RINGING, '+101#p3 Connected ; -102#p4 ; -800#p2 ; +10000#p1 Connected party_dn=101 party_dn_type=Wextension'], AT)
    events.push(...tracker.endWithRecord(record({ conversations: [conv('101', T0 + 100, 5), conv('103', AT - 3000, 2, 'Blind')] }), AT + 400))
    t.same(events.slice(3).map(brief), [
      'hangupincoming 101 261121083716_7-1 trtype=NotDef',
      'incoming 101 261121083716_7-1 finishtype=Ok transfer=true duration=5',
      'hangupincoming 103 261121083716_7-2 trtype=Blind',
      'incoming 103 261121083716_7-2 finishtype=Ok transfer=false duration=2'
    ])
  })
  t.test('no PBX record within the wait: what the model knew (Missed at the queue)', async (t) => {
    const { tracker } = trackerAfterGap(QUEUE_RINGING, AT)
    t.same(tracker.endWithRecord(null, AT + 20_000).map(brief), ['incoming 800 261121083716_7-0 finishtype=Missed transfer=false duration=0'])
  })
  t.test('observed removes need no reconciliation; a call that comes back cancels it', async (t) => {
    const tracker = new CallTracker({ callid: 7, chid: '261121083716_7', graceMs: 300 })
    const [ring] = changesOf(QUEUE_RINGING.slice(0, 1), 7)
    if (ring.kind !== 'upsert') throw new Error('script')
    tracker.upsert(ring.participant, ring.dnType, ring.at)
    tracker.remove('10000', 1, AT)
    t.notOk(tracker.awaitsReconciliation(AT + 1000))
    tracker.upsert(ring.participant, ring.dnType, AT) // removed legs stay removed
    const back = { ...ring.participant, id: 9 }
    tracker.remove('10000', 9, AT, true)
    tracker.upsert(back, ring.dnType, AT + 10)
    tracker.remove('10000', 9, AT + 20, true)
    t.ok(tracker.awaitsReconciliation(AT + 1000))
    tracker.upsert({ ...back, id: 10 }, ring.dnType, AT + 30)
    t.notOk(tracker.awaitsReconciliation(AT + 1000), 'legs again: the call goes on')
  })
})

t.test('a ringing leg gone uncertainly while nobody talked: the end is looked up, even when later legs are seen', async (t) => {
  // 102 rang; its answer was never read (the fetch found it gone); it blind-transferred to 108, seen.
  const { tracker, events } = play([`+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`, `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`])
  events.push(...tracker.remove('102', 2, T0 + 900, true))
  play([
    `+108#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension`,
    '+108#p3 Connected ; +10000#p1 Connected party_dn=108',
    'wait 2000',
    '-108#p3 ; -10000#p1'
  ], tracker, T0 + 1000, events)
  const end = T0 + 3100
  t.notOk(tracker.awaitsReconciliation(end), 'grace period first')
  t.ok(tracker.awaitsReconciliation(end + 300), 'the answer 102 may have given is looked up')
  const resumed = CallTracker.fromState({ callid: 7, chid: '261121083716_7', graceMs: 300 }, tracker.toState())
  t.ok(resumed?.awaitsReconciliation(end + 300), 'kept across a restart')
  events.push(...tracker.endWithRecord(record({ conversations: [conv('102', T0 + 200, 0.6), conv('108', T0 + 1100, 2, 'Blind')] }), end + 400))
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), [
    'hangupincoming 108 261121083716_7-1 trtype=Blind',
    'hangupincoming 102 261121083716_7-2 trtype=NotDef',
    'incoming 102 261121083716_7-2 finishtype=Ok transfer=true duration=1',
    'incoming 108 261121083716_7-1 finishtype=Ok transfer=false duration=2'
  ])
  t.ok(tracker.finished)
})

t.test('attended transfer whose completion was never read: the transferor\'s end waits for the PBX record (soak regression)', async (t) => {
  const { tracker, events } = play([
    `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
    `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    '+102#p2 Connected ; +10000#p1 Connected',
    '+102#p4 Dialing party_dn=104 party_dn_type=Wextension party_caller_id=104',
    '+104#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102',
    '-102#p4 ; -102#p2'
  ])
  // 104's Connected was announced but its fetch found it gone: nobody knows whether it answered.
  events.push(...tracker.remove('104', 5, T0 + 1000, true))
  t.equal(tracker.deadline(), null, 'no grace timer would end 102 with transfer=false')
  t.same(tracker.expire(T0 + 5000), [], 'nor would an expiry')
  events.push(...tracker.remove('10000', 1, T0 + 1500))
  t.ok(tracker.awaitsReconciliation(T0 + 1800))
  events.push(...tracker.endWithRecord(record({ conversations: [conv('102', T0, 1), conv('104', T0 + 1000, 1, 'Accomp')] }), T0 + 2000))
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), [
    'hangupincoming 102 261121083716_7-1 trtype=NotDef',
    'incoming 102 261121083716_7-1 finishtype=Ok transfer=true duration=1',
    'hangupincoming 104 261121083716_7-2 trtype=Accomp',
    'incoming 104 261121083716_7-2 finishtype=Ok transfer=false duration=1'
  ])
})

t.test('a ringing leg gone uncertainly after another answered (ring-all losers): no lookup', async (t) => {
  const tracker = new CallTracker({ callid: 7, chid: '261121083716_7', graceMs: 300 })
  for (const c of changesOf([...QUEUE_RINGING, '+101#p3 Connected ; +10000#p1 Connected party_dn=101 party_dn_type=Wextension'], 7)) {
    if (c.kind === 'upsert') tracker.upsert(c.participant, c.dnType, c.at)
  }
  tracker.remove('102', 4, AT, true)
  tracker.remove('800', 2, AT)
  tracker.remove('101', 3, AT + 1000)
  tracker.remove('10000', 1, AT + 1000)
  t.notOk(tracker.awaitsReconciliation(AT + 2000))
  t.same(tracker.expire(AT + 2000).map((e) => e.payload.event), ['incoming'])
})

t.test('an extension talking again on a new leg after a gap is the same conversation', async (t) => {
  const { tracker, events } = trackerAfterGap([...QUEUE_RINGING, '+101#p3 Connected ; -102#p4 ; -800#p2 ; +10000#p1 Connected party_dn=101 party_dn_type=Wextension'], AT)
  const [back] = changesOf([`+101#p9 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`], 7, AT + 1)
  if (back.kind !== 'upsert') throw new Error('script')
  events.push(...tracker.upsert(back.participant, back.dnType, AT + 1))
  tracker.remove('101', 9, AT + 5000)
  events.push(...tracker.expire(AT + 6000))
  t.same(events.slice(3).map(brief), ['hangupincoming 101 261121083716_7-1 trtype=NotDef', 'incoming 101 261121083716_7-1 finishtype=Ok transfer=false duration=15'], 'the duration counts from the first answer')
})

t.test('a conversation gone in a gap: the PBX\'s talk time is exact; without a record the end says timing=approximate, also after a restart', async (t) => {
  const talking = ['+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=CALLER', '+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=CALLER', '+102#p2 Connected ; +10000#p1 Connected']
  const timing = (e: CallEvent): unknown => (e.payload as unknown as Record<string, unknown>).timing
  const withRecord = trackerAfterGap(talking, AT).tracker.endWithRecord(record({ conversations: [conv('102', T0 + 30, 7)] }), AT + 400)
  t.same(withRecord.map(brief), ['incoming 102 261121083716_7-1 finishtype=Ok transfer=false duration=7'])
  t.equal(timing(withRecord[0]), undefined, 'the PBX said how long it talked')

  const { tracker } = trackerAfterGap(talking, AT)
  t.equal(tracker.lastSeenAt, AT)
  const resumed = CallTracker.fromState({ callid: 7, chid: '261121083716_7', graceMs: 300 }, tracker.toState()) as CallTracker
  t.equal(resumed.lastSeenAt, AT, 'the last sight survives a restart')
  const guessed = resumed.endWithRecord(null, AT + 400)
  t.same(guessed.map(brief), ['incoming 102 261121083716_7-1 finishtype=Ok transfer=false duration=10'])
  t.equal(timing(guessed[0]), 'approximate', 'ended at the snapshot that found it gone: says so')
})
