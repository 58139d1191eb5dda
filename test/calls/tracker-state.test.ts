// The tracker's state record: states persisted by earlier versions of the gateway (fixtures written by
// them) must resume their calls, and the record survives a round trip with nothing lost.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import { DidMap } from '../../src/calls/did-map.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import type { CallTrackerState } from '../../src/calls/derivation/tracker-state.js'
import { CALLER, changesOf } from './participant-script.js'

const N = 1265
const CHID = `261121083716_${N}`
const didMap = new DidMap([{ ruleName: 'Sales line', did: '+15550101', trunkDn: '10000', destinations: ['800'] }])
const opts = { callid: N, chid: CHID, graceMs: 2000, didLookup: (q: Parameters<DidMap['lookup']>[0]) => didMap.lookup(q) }

/**
 * Written by the tracker of commit 29fc081 (before the derivation package): queue 800 rang 101 and
 * 102, 101 answered, 102 vanished from a snapshot, 101 blind-transferred to 108, which rings.
 */
const V1 = JSON.parse(readFileSync(new URL('./fixtures/tracker-state-v1.json', import.meta.url), 'utf8')) as CallTrackerState
/** Where the fixture's call goes on: 108 answers, talks 4 s, hangs up. */
const REST = [
  `+108#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=101 referred_by_type=Wextension`,
  'wait 4000',
  '-108#p5 ; -10000#p1'
]
const REST_AT = 1795250240600
/** What that same tracker of 29fc081 derived from REST, unchanged. */
const OLD_EVENTS = [
  `hangupincoming 108 ${CHID}-2 2026-11-21T08:37:20.610Z trtype=Blind did=Sales line`,
  `incoming 108 ${CHID}-2 2026-11-21T08:37:24.620Z finishtype=Ok transfer=false duration=4 did=Sales line participants=5`
]

function brief (e: CallEvent): string {
  const p = e.payload as WebhookPayload & Record<string, unknown>
  const parts = [String(p.event), String(p.user), String(p.id), String(p.timestamp)]
  for (const k of ['trtype', 'finishtype', 'transfer', 'duration', 'did']) if (p[k] !== undefined) parts.push(`${k}=${String(p[k])}`)
  if (e.participants !== undefined) parts.push(`participants=${e.participants.join(',')}`)
  return parts.join(' ')
}

/** Plays the lines into the tracker, then expires it as its owner would; `restart` resumes it from its state after each change. */
function finish (tracker: CallTracker, lines: string[], restart = false): { tracker: CallTracker, events: CallEvent[] } {
  const events: CallEvent[] = []
  let last = REST_AT
  for (const c of changesOf(lines, N, REST_AT)) {
    if (c.kind === 'upsert') events.push(...tracker.upsert(c.participant, c.dnType, c.at))
    else if (c.kind === 'remove') events.push(...tracker.remove(c.dn, c.id, c.at))
    last = c.at
    if (restart) tracker = CallTracker.fromState(opts, JSON.parse(JSON.stringify(tracker.toState())) as CallTrackerState) as CallTracker
  }
  for (let due = tracker.deadline(); due !== null; due = tracker.deadline()) events.push(...tracker.expire(Math.max(due, last)))
  return { tracker, events }
}

t.test('a state written by the old tracker resumes its call with the same events', async (t) => {
  const tracker = CallTracker.fromState(opts, V1)
  if (tracker === null) throw new Error('the v1 state was not restored')
  t.equal(tracker.direction, 'inbound')
  t.equal(tracker.legCount, 2)
  t.same(tracker.legKeys(), ['10000#1', '108#5'])
  t.equal(tracker.legacyId, `${CHID}-2`)
  t.equal(tracker.lastSeenAt, V1.lastSeenAt)
  t.ok(tracker.conversationMayContinue('101', 1), 'the blind transfer from 101 is still unresolved')
  t.same(tracker.toState(), V1, 'written back as it was read')
  t.equal(tracker.view().state, 'Transferring')
  const { events } = finish(tracker, REST)
  t.same(events.map(brief), OLD_EVENTS)
  t.ok(tracker.finished)
})

t.test('a state of before uncertainAnswer and lastSeenAt existed resumes too', async (t) => {
  const { uncertainAnswer: _a, lastSeenAt: _l, ...older } = V1
  const tracker = CallTracker.fromState(opts, older)
  if (tracker === null) throw new Error('the older state was not restored')
  t.equal(tracker.lastSeenAt, V1.lastEventAt, 'last seen: its latest event')
  t.same(tracker.toState(), { ...V1, lastSeenAt: 0 }, 'the missing fields are filled in')
  t.same(finish(tracker, REST).events.map(brief), OLD_EVENTS)
})

t.test('restarting after every change derives what one run does', async (t) => {
  const { events } = finish(CallTracker.fromState(opts, V1) as CallTracker, REST, true)
  t.same(events.map(brief), OLD_EVENTS)
})

t.test('a state of another version, or pointing at conversations it lacks', async (t) => {
  t.equal(CallTracker.fromState(opts, { ...V1, v: 2 }), null, 'another version is ignored')
  const dangling = CallTracker.fromState(opts, { ...V1, conversation: 5, transferFrom: { conv: 3, targetKey: '108#5' } }) as CallTracker
  t.notOk(dangling.conversationMayContinue('101', 1), 'indexes that point nowhere are dropped')
  t.same(dangling.toState(), { ...V1, transferFrom: null })
  const stored = CallTracker.fromState(opts, V1) as CallTracker
  stored.upsert({ ...V1.legs[1]!.p, status: 'Connected' }, 'Wextension', REST_AT)
  t.same(V1.talks.length, 1, 'the stored state is a copy: the tracker never changes it')
})
