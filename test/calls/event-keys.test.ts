// Natural keys of derived events (CallEvent.key): a tracker resumed from ANY older persisted state
// (a new stream holder after the old one committed events but not yet their call's state) derives
// the committed events again with the same keys, so the outbox keeps one copy; every other event
// (a transfer, a conversation taken back, the end) gets a key of its own.
import t from 'tap'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { CallTrackerState } from '../../src/calls/derivation/tracker-state.js'
import type { ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import { changesOf, queueRinging } from './participant-script.js'

const N = 1301
const opts = { callid: N, chid: `261121083716_${N}`, graceMs: 2000 }
const TRUNK = 'party_dn=10000 party_dn_type=Wexternalline party_caller_id=CALLER'
/** Queue 800 rings 101 and 102; 101 answers, blind-transfers to 108 who does not answer, takes the call back, hangs up. */
const CALL = [
  ...queueRinging(['101', '102']),
  '+101#p3 Connected', '-102#p4', 'wait 3000',
  `+108#p5 Ringing ${TRUNK} referred_by_dn=101 referred_by_type=Wextension`, '-101#p3', 'wait 1000',
  '-108#p5', `+101#p6 Ringing ${TRUNK}`, '+101#p6 Connected', 'wait 4000',
  '-101#p6', '-10000#p1', '-800#p2'
]

function apply (tracker: CallTracker, c: ParticipantChange): CallEvent[] {
  const due = tracker.deadline()
  const out = due !== null && due <= c.at ? tracker.expire(due) : []
  if (c.kind === 'upsert') out.push(...tracker.upsert(c.participant, c.dnType, c.at))
  else if (c.kind === 'remove') out.push(...tracker.remove(c.dn, c.id, c.at))
  return out
}

function drain (tracker: CallTracker, last: number): CallEvent[] {
  const out: CallEvent[] = []
  for (let due = tracker.deadline(); due !== null; due = tracker.deadline()) out.push(...tracker.expire(Math.max(due, last)))
  return out
}

const keysOf = (events: CallEvent[]): string[] => events.map((e) => String(e.key))

t.test('a tracker resumed from an older state derives the committed events again with the same keys; new events get new keys', async (t) => {
  const changes = changesOf(CALL, N)
  const last = changes[changes.length - 1].at
  const live = new CallTracker(opts)
  // The state persisted before each change, and how many events had been derived by then.
  const states: Array<{ state: CallTrackerState, derived: number }> = []
  const events: CallEvent[] = []
  for (const c of changes) {
    states.push({ state: JSON.parse(JSON.stringify(live.toState())) as CallTrackerState, derived: events.length })
    events.push(...apply(live, c))
  }
  events.push(...drain(live, last))
  t.same(events.map((e) => `${e.type} ${e.payload.user}`), [
    'ringing 800', 'ringing 101', 'ringing 102', 'started 101', 'ended 101', 'ringing 108', 'ringing 101', 'ended 101'
  ], 'the call as derived without a take-over')
  t.equal(new Set(keysOf(events)).size, events.length, 'every event has a key of its own (the second end of 101, taken back, too)')
  t.ok(events.every((e) => e.key?.startsWith(`${opts.chid}:`) === true), 'keys are scoped to the call')

  // A holder that resumes from the state before change i derives what the old holder derived from then on.
  for (let i = 0; i < changes.length; i++) {
    const resumed = CallTracker.fromState(opts, states[i].state)
    if (resumed === null) throw new Error('not resumable')
    const again = changes.slice(i).flatMap((c) => apply(resumed, c))
    again.push(...drain(resumed, last))
    t.same(keysOf(again), keysOf(events.slice(states[i].derived)), `resumed before change ${i}: same keys`)
  }
})

t.test('the queue ringing the same agent again in the same link is no new event; in a new link it is', async (t) => {
  const tracker = new CallTracker(opts)
  const changes = changesOf([
    ...queueRinging(['101']), '-101#p3', '+101#p4 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=CALLER on_behalf_of_dn=800 on_behalf_of_type=Wqueue',
    '+101#p4 Connected', 'wait 2000', `+108#p5 Ringing ${TRUNK} referred_by_dn=101 referred_by_type=Wextension`, '-101#p4', 'wait 500',
    '-108#p5', `+101#p6 Ringing ${TRUNK} referred_by_dn=108 referred_by_type=Wextension`
  ], N)
  const events = changes.flatMap((c) => apply(tracker, c))
  const ringing = events.filter((e) => e.type === 'ringing' && e.payload.user === '101')
  t.equal(ringing.length, 2, 'one ringing of 101 per link')
  t.not(ringing[0].key, ringing[1].key)
})
