// A transfer that completes in a WebSocket gap, after the gateway saw the transferor leave (fault
// suite "WebSocket drops, PBX down, tokens revoked" on a loaded machine, calls 102 → 103): 102's
// legs went while the feed still worked, the WebSocket dropped before 103's turn to the caller was
// read, and 103 talked and hung up inside the gap. The snapshot after the reconnect shows the call
// gone. 102's conversation had waited for 103 (attended) or for the gap (blind); once the snapshot
// was applied its grace period was long over, so it was ended as the call's final end
// (transfer=false), and the call's end, reconciled with the PBX's record a moment later, then sent
// 103's call-started and call-ended events after it. The call's end must come in one piece from the
// record: 102 transferred, 103 last. Model on fake time, the gap played through `blindSince`.
import t, { type Test } from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent, TransferType } from '../../src/calls/call-events.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import type { ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import { CALLER, T0, changesOf, transferBrief } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

const CALLID = 1008
const GRACE_MS = 300

const brief = transferBrief

/** 102 answers the caller (talking from T0 + 30 ms). */
const ANSWERED_BY_102 = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
  '+102#p2 Connected ; +10000#p1 Connected',
  'wait 2000'
]

/** A conversation of the PBX's record, from the change that answered it to the one that ended it (indexes into the call's changes). */
interface Talk {
  user: string
  from: number
  to: number
  trtype: TransferType
}

/** The PBX's record of the call (call log rows): its conversations as the changes show them. */
function recordOf (all: readonly ParticipantChange[], talks: readonly Talk[]): PbxCallRecord {
  const endedAt = all[all.length - 1].at
  return {
    callid: CALLID,
    conversations: talks.map(({ user, from, to, trtype }) => ({ user, answeredAt: all[from].at, endedAt: all[to].at, talkSeconds: Math.round((all[to].at - all[from].at) / 1000), trtype })),
    waitedIn: null,
    endedAt
  }
}

/**
 * Plays `seen` live, then a gap from `dropAfterMs` after the last seen change: `unseen` happens in
 * it (the call ends there), and the snapshot after the reconnect, 2.7 s after the drop, shows the
 * call gone. Then waits for the call's end, and checks it: looked up in the call log, 102
 * transferred the call to 103 (`trtype`), 103's end last, in order, on one chain.
 */
async function playTransferInGap (t: Test, seen: string[], unseen: string[], talks: (all: ParticipantChange[]) => Talk[], dropAfterMs: number, trtype: TransferType): Promise<CallEvent[]> {
  const clock = new FakeClock(T0)
  const all = changesOf([...seen, ...unseen], CALLID)
  const live = all.slice(0, changesOf(seen, CALLID).length)
  const events: CallEvent[] = []
  const lookups: number[] = []
  let blindSince: number | null = null
  const m = new CallModel({
    timeZone: 'UTC',
    graceMs: GRACE_MS,
    internalCalls: true,
    clock,
    blindSince: () => blindSince,
    callTimes: async () => new Map(),
    callRecords: async (q) => { lookups.push(q.callid); return recordOf(all, talks(all)) },
    onEvent: (e) => { events.push(e) }
  })
  t.teardown(() => { m.stop() })
  for (const c of live) {
    await clock.advance(c.at - clock.now())
    m.apply(c)
  }
  await clock.advance(dropAfterMs)
  blindSince = clock.now() // the WebSocket dropped
  await clock.advance(2700)
  const snapshot = snapshotAfter(all, clock.now())
  t.equal(snapshot.kind === 'resync' ? snapshot.dns.length : -1, 0, 'the snapshot after the reconnect shows the call gone')
  m.apply(snapshot)
  blindSince = null
  await clock.advance(5000)
  t.equal(m.endsOwed(), 0, 'the call is ended')
  t.same(lookups, [CALLID], 'the call\'s end is looked up in the call log')
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), [
    'hangupincoming 102 NotDef',
    'incoming 102 Ok transfer=true',
    `hangupincoming 103 ${trtype}`,
    'incoming 103 Ok transfer=false'
  ], '102 transferred the call, 103 ended it')
  // What a receiver checks (test/faults/lib/ground-truth.ts): nothing after the final end, stamps never go back.
  const finalAt = events.findIndex((e) => e.type === 'ended' && String((e.payload as unknown as Record<string, unknown>).transfer) === 'false')
  t.equal(finalAt, events.length - 1, 'the final call-ended event (transfer=false) is the call\'s last event')
  const stamps = events.map((e) => Date.parse(String(e.payload.timestamp)))
  t.same(stamps, [...stamps].sort((a, b) => a - b), 'timestamps never go back')
  t.equal(new Set(events.map((e) => e.payload.chid)).size, 1, 'one chain')
  return events
}

/** The index of the first change `test` picks. */
const indexOf = (all: readonly ParticipantChange[], test: (c: ParticipantChange) => boolean): number => all.findIndex(test)

t.test('attended transfer completed in a gap after the transferor left: 102 transferred, 103 last', async (t) => {
  const seen = [
    ...ANSWERED_BY_102,
    '+102#p4 Dialing party_dn=103 party_dn_type=Wextension party_caller_id=103',
    '+103#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102',
    '+103#p5 Connected ; +102#p4 Connected',
    'wait 1000',
    '-102#p4 ; -102#p2' // the transferor leaves; 103's turn to the caller is not read before the drop
  ]
  const unseen = [
    `+103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} ; +10000#p1 Connected party_dn=103`,
    'wait 1000',
    '-103#p5 ; -10000#p1'
  ]
  const events = await playTransferInGap(t, seen, unseen, (all) => {
    const left = indexOf(all, (c) => c.kind === 'remove' && c.dn === '102' && c.id === 2)
    return [{ user: '102', from: 2, to: left, trtype: 'NotDef' }, { user: '103', from: left, to: all.length - 1, trtype: 'Accomp' }]
  }, 100, 'Accomp')
  t.equal(String(events.at(-1)?.payload.id).slice(-2), '-2', '103 talked in the link it rang in')
})

t.test('blind transfer in a gap that began within the transferor\'s grace period: 102 transferred, 103 last', async (t) => {
  const seen = [...ANSWERED_BY_102, '-102#p2'] // 102 leaves; the WebSocket drops before 103's ringing is read
  const unseen = [
    `+103#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension ; +10000#p1 Connected party_dn=103`,
    'wait 150',
    '+103#p3 Connected',
    'wait 1000',
    '-103#p3 ; -10000#p1'
  ]
  await playTransferInGap(t, seen, unseen, (all) => {
    const left = indexOf(all, (c) => c.kind === 'remove' && c.dn === '102')
    const answered = indexOf(all, (c) => c.kind === 'upsert' && c.participant.dn === '103' && c.participant.status === 'Connected')
    return [{ user: '102', from: 2, to: left, trtype: 'NotDef' }, { user: '103', from: answered, to: all.length - 1, trtype: 'Blind' }]
  }, GRACE_MS / 2, 'Blind')
})
