// Canonical sequences A–H of webhooks.md §3, derived from the participant streams of
// docs/DEVELOPING.md, plus the awkward paths (re-rings, transfers that fail, duplicates, gaps).
import t from 'tap'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import { DidMap } from '../../src/calls/did-map.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import { CALLER, T0, changesOf, playInto, queueRinging } from './participant-script.js'

const N = 1265
const CHID = `261121083716_${N}`
const id = (link: number): string => `${CHID}-${link}`

const didMap = new DidMap([
  { ruleName: 'Main line', did: '+15550100', trunkDn: '10000', destinations: ['900'] },
  { ruleName: 'Sales line', did: '+15550101', trunkDn: '10000', destinations: ['800'] },
  { ruleName: 'Direct 102', did: '+15550102', trunkDn: '10000', destinations: ['102'] }
])

function derive (lines: string[]): { events: CallEvent[], tracker: CallTracker } {
  const tracker = new CallTracker({ callid: N, chid: CHID, graceMs: 2000, didLookup: (q) => didMap.lookup(q) })
  return { events: playInto(tracker, lines, N), tracker }
}

/** The fields a sequence step names, in order. */
function brief (e: CallEvent): string {
  const p = e.payload as WebhookPayload & Record<string, unknown>
  const parts = [p.event, `user=${String(p.user)}`]
  for (const k of ['usertype', 'callerid', 'did', 'trtype', 'finishtype', 'transfer', 'duration']) {
    if (p[k] !== undefined) parts.push(`${k}=${String(p[k])}`)
  }
  parts.push(`id=${p.id}`)
  return parts.join(' ')
}

const QUEUE_START = queueRinging()
const QUEUE_RINGING = [
  `ringing user=800 usertype=queue callerid=${CALLER} did=Sales line id=${id(0)}`,
  `ringing user=101 usertype=ext callerid=${CALLER} did=Sales line id=${id(0)}`,
  `ringing user=102 usertype=ext callerid=${CALLER} did=Sales line id=${id(0)}`,
  `ringing user=103 usertype=ext callerid=${CALLER} did=Sales line id=${id(0)}`
]

t.test('A: queue, 101 answers, caller hangs up after 65 s', async (t) => {
  const { events, tracker } = derive([
    ...QUEUE_START,
    '+101#p3 Connected ; -102#p4 ; -103#p5 ; -800#p2 ; +10000#p1 Connected party_dn=101 party_dn_type=Wextension',
    'wait 65000',
    '-101#p3 ; -10000#p1'
  ])
  t.same(events.map(brief), [
    ...QUEUE_RINGING,
    `hangupincoming user=101 callerid=${CALLER} did=Sales line trtype=NotDef id=${id(1)}`,
    `incoming user=101 callerid=${CALLER} did=Sales line finishtype=Ok transfer=false duration=65 id=${id(1)}`
  ])
  const ended = events[5].payload as unknown as Record<string, unknown>
  t.equal(ended.title, `Sales line: answered call from ${CALLER} (1:05)`)
  t.equal(ended.chid, CHID)
  t.match(ended.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(events[0].chain, CHID)
  t.ok(tracker.finished)
})

t.test('B: queue, nobody answers, caller gives up', async (t) => {
  const { events } = derive([...QUEUE_START, 'wait 32000', '-101#p3 ; -102#p4 ; -103#p5 ; -800#p2 ; -10000#p1'])
  t.same(events.map(brief), [
    ...QUEUE_RINGING,
    `incoming user=800 callerid=${CALLER} did=Sales line finishtype=Missed transfer=false duration=0 id=${id(0)}`
  ])
  t.match((events[4].payload as { title: string }).title, /^Sales line: missed call in queue 800 from \+15557654321 \(0:3\d\)$/)
})

const DIRECT_102 = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
  '+102#p2 Connected ; +10000#p1 Connected',
  'wait 5000'
]
const BLIND_TO_103 = `-102#p2 ; +103#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension ; +10000#p1 Connected party_dn=103`

t.test('C: direct to 102, blind transfer to 103, 103 answers', async (t) => {
  const { events } = derive([...DIRECT_102, BLIND_TO_103, '+103#p3 Connected', 'wait 10000', '-103#p3 ; -10000#p1'])
  t.same(events.map(brief), [
    `ringing user=102 usertype=ext callerid=${CALLER} did=Direct 102 id=${id(0)}`,
    `hangupincoming user=102 callerid=${CALLER} did=Direct 102 trtype=NotDef id=${id(1)}`,
    `incoming user=102 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=true duration=5 id=${id(1)}`,
    `ringing user=103 usertype=ext callerid=${CALLER} did=Direct 102 id=${id(2)}`,
    `hangupincoming user=103 callerid=${CALLER} did=Direct 102 trtype=Blind id=${id(2)}`,
    `incoming user=103 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=false duration=10 id=${id(2)}`
  ])
})

t.test('D: attended transfer 102 → 103, completed', async (t) => {
  const { events } = derive([
    ...DIRECT_102,
    '+102#p4 Dialing party_dn=103 party_dn_type=Wextension party_caller_id=103',
    '+103#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102',
    '+103#p5 Connected ; +102#p4 Connected',
    'wait 300',
    `-102#p4 ; -102#p2 ; +103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} ; +10000#p1 Connected party_dn=103`,
    'wait 4000',
    '-103#p5 ; -10000#p1'
  ])
  t.same(events.map(brief), [
    `ringing user=102 usertype=ext callerid=${CALLER} did=Direct 102 id=${id(0)}`,
    `hangupincoming user=102 callerid=${CALLER} did=Direct 102 trtype=NotDef id=${id(1)}`,
    // 103's phone rings for the consultation (from 102) while 102 still talks to the caller.
    `ringing user=103 usertype=ext callerid=102 did=Direct 102 id=${id(2)}`,
    `incoming user=102 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=true duration=5 id=${id(1)}`,
    `hangupincoming user=103 callerid=${CALLER} did=Direct 102 trtype=Accomp id=${id(2)}`,
    `incoming user=103 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=false duration=4 id=${id(2)}`
  ])
})

t.test('D′: attended transfer whose target does not answer: the conversation goes on', async (t) => {
  const { events } = derive([
    ...DIRECT_102,
    '+102#p4 Dialing party_dn=103 party_dn_type=Wextension party_caller_id=103',
    '+103#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102',
    'wait 3000',
    '-103#p5 ; -102#p4',
    'wait 2000',
    '-102#p2 ; -10000#p1'
  ])
  t.same(events.map(brief).slice(2), [
    `ringing user=103 usertype=ext callerid=102 did=Direct 102 id=${id(2)}`,
    `incoming user=102 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=false duration=10 id=${id(1)}`
  ])
})

// Attended transfers whose consultation the gateway saw only in part (soak: 2 of 36,000 calls were
// announced NotDef). Every one must still announce 103 with trtype=Accomp on the next link.
const CONSULT_LEG = '+102#p4 Dialing party_dn=103 party_dn_type=Wextension party_caller_id=103'
const TARGET_RINGING = '+103#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102'
const COMPLETED = `-102#p2 ; +103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} ; +10000#p1 Connected party_dn=103`
const ACCOMP_103 = `hangupincoming user=103 callerid=${CALLER} did=Direct 102 trtype=Accomp id=${id(2)}`
const unseenConsultations: Array<[string, string[]]> = [
  ['the target fetched before the consultation leg', [TARGET_RINGING, CONSULT_LEG, '+103#p5 Connected ; +102#p4 Connected', 'wait 300', '-102#p4', COMPLETED]],
  ['the target first seen answered (its ringing unseen)', [CONSULT_LEG, '+103#p5 Connected party_dn=102 party_dn_type=Wextension party_caller_id=102', 'wait 300', '-102#p4', COMPLETED]],
  ['the target first seen answered, the consultation leg never seen', ['+103#p5 Connected party_dn=102 party_dn_type=Wextension party_caller_id=102', 'wait 300', COMPLETED]],
  ['nothing of the consultation seen before the transfer completed', ['wait 300', COMPLETED]]
]
for (const [what, consultation] of unseenConsultations) {
  t.test(`D, ${what}: trtype=Accomp`, async (t) => {
    const { events } = derive([...DIRECT_102, ...consultation, 'wait 4000', '-103#p5 ; -10000#p1'])
    const started = events.filter((e) => e.type === 'started').map(brief)
    t.same(started, [`hangupincoming user=102 callerid=${CALLER} did=Direct 102 trtype=NotDef id=${id(1)}`, ACCOMP_103])
    t.same(events.filter((e) => e.type === 'ended').map(brief), [
      `incoming user=102 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=true duration=5 id=${id(1)}`,
      `incoming user=103 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=false duration=4 id=${id(2)}`
    ])
  })
}

t.test('a blind transfer target first seen answered stays Blind; the transferor taking the call back is no transfer', async (t) => {
  const blind = derive([...DIRECT_102, `-102#p2 ; +103#p3 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension`, 'wait 1000', '-103#p3 ; -10000#p1'])
  t.same(blind.events.filter((e) => e.type === 'started').map((e) => (e.payload as { trtype?: string }).trtype), ['NotDef', 'Blind'])
  const queue = derive([...QUEUE_START, '+101#p3 Connected ; -102#p4 ; -103#p5 ; -800#p2', 'wait 1000', '-101#p3 ; -10000#p1'])
  t.same(queue.events.filter((e) => e.type === 'started').map((e) => (e.payload as { trtype?: string }).trtype), ['NotDef'])
})

t.test('E: outbound answered', async (t) => {
  const { events } = derive([
    '+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+15559870000',
    '+10000#p2 Dialing party_dn=101 party_dn_type=Wextension party_caller_id=+15559870000',
    '+10000#p2 Connected ; +101#p1 Connected',
    'wait 7000',
    '-10000#p2 ; -101#p1'
  ])
  t.same(events.map(brief), [
    `hangupoutgoing user=101 callerid=+15559870000 did= trtype=NotDef id=${id(1)}`,
    `outgoing user=101 callerid=+15559870000 did= finishtype=Ok transfer=false duration=7 id=${id(1)}`
  ])
  t.equal((events[1].payload as { title: string }).title, 'Outgoing call to +15559870000 (0:07)')
})

t.test('F: outbound not answered', async (t) => {
  const { events } = derive([
    '+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+15559870000',
    '+10000#p2 Dialing party_dn=101 party_dn_type=Wextension party_caller_id=+15559870000',
    'wait 20000',
    '-10000#p2 ; -101#p1'
  ])
  t.same(events.map(brief), [
    `outgoing user=101 callerid=+15559870000 did= finishtype=Missed transfer=false duration=0 id=${id(0)}`
  ])
})

t.test('G: blind transfer target does not answer, the call returns to 102', async (t) => {
  const { events } = derive([
    ...DIRECT_102, BLIND_TO_103, 'wait 1500',
    '-103#p3 ; +102#p4 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=CALLER',
    'wait 3000', '-102#p4 ; -10000#p1'
  ])
  t.same(events.map(brief), [
    `ringing user=102 usertype=ext callerid=${CALLER} did=Direct 102 id=${id(0)}`,
    `hangupincoming user=102 callerid=${CALLER} did=Direct 102 trtype=NotDef id=${id(1)}`,
    `incoming user=102 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=true duration=5 id=${id(1)}`,
    `ringing user=103 usertype=ext callerid=${CALLER} did=Direct 102 id=${id(2)}`,
    `incoming user=102 callerid=${CALLER} did=Direct 102 finishtype=Ok transfer=false duration=10 id=${id(1)}`
  ])
})

t.test('H: internal 101 → 102', async (t) => {
  const { events, tracker } = derive([
    '+101#p1 Dialing party_dn=102 party_dn_type=Wextension party_caller_id=102 party_caller_name="Bob Two"',
    '+102#p2 Ringing party_dn=101 party_dn_type=Wextension party_caller_id=101 party_caller_name="Alice One"',
    '+102#p2 Connected ; +101#p1 Connected',
    'wait 3000',
    '-102#p2 ; -101#p1'
  ])
  t.same(events.map(brief), [
    `ringing user=102 usertype=ext callerid=101 did= id=${id(0)}`,
    `hangupincoming user=102 callerid=101 did= trtype=NotDef id=${id(1)}`,
    `incoming user=102 callerid=101 did= finishtype=Ok transfer=false duration=3 id=${id(1)}`
  ])
  t.equal(events[0].payload.callername, 'Alice One')
  t.equal(tracker.direction, 'internal')
})

t.test('internal call whose callee is fetched before the caller: the caller is not a consultation (fault suite regression)', async (t) => {
  // Participant fetches run in parallel: 101's Ringing can be known before 102's Dialing.
  // 102 calls ring group 700: 101 rings first, then 100 answers.
  const { events, tracker } = derive([
    '+101#p3 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102 party_caller_name="Bob Two" on_behalf_of_dn=700 on_behalf_of_type=Wringgroup',
    '+102#p1 Dialing party_dn=700 party_dn_type=Wringgroup party_caller_id=700',
    '-101#p3',
    '+100#p4 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102 party_caller_name="Bob Two" on_behalf_of_dn=700 on_behalf_of_type=Wringgroup',
    '+100#p4 Connected ; +102#p1 Connected party_dn=100 party_dn_type=Wextension',
    'wait 3000',
    '-100#p4 ; -102#p1'
  ])
  t.same(events.map(brief).filter((e) => !e.startsWith('ringing')), [
    `hangupincoming user=100 callerid=102 did= trtype=NotDef id=${id(1)}`,
    `incoming user=100 callerid=102 did= finishtype=Ok transfer=false duration=3 id=${id(1)}`
  ])
  t.equal(tracker.direction, 'internal')
  t.ok(tracker.finished)
})

t.test('outbound call whose trunk leg is fetched before the caller\'s: one outgoing event', async (t) => {
  const { events } = derive([
    '+10000#p2 Dialing party_dn=101 party_dn_type=Wextension party_caller_id=101',
    '+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+15559876543',
    '+10000#p2 Connected ; +101#p1 Connected',
    'wait 4000',
    '-101#p1 ; -10000#p2'
  ])
  t.same(events.map((e) => e.payload.event), ['hangupoutgoing', 'outgoing'])
  t.equal((events[1].payload as unknown as Record<string, unknown>).finishtype, 'Ok')
})

t.test('IVR in front of a queue, 102 answers', async (t) => {
  const { events } = derive([
    `+10000#p1 Ringing party_dn=900 party_dn_type=Wivr party_caller_id=${CALLER}`,
    `+900#p2 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
    '+10000#p1 Connected',
    'wait 300',
    '-900#p2',
    `+800#p3 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} ; +10000#p1 Connected party_dn=800 party_dn_type=Wqueue`,
    `+101#p4 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=800 on_behalf_of_type=Wqueue`,
    `+102#p5 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=800 on_behalf_of_type=Wqueue`,
    '+102#p5 Connected ; -101#p4 ; -800#p3',
    'wait 2000', '-102#p5 ; -10000#p1'
  ])
  t.same(events.map(brief), [
    `ringing user=900 usertype=other callerid=${CALLER} did=Main line id=${id(0)}`,
    `ringing user=800 usertype=queue callerid=${CALLER} did=Main line id=${id(0)}`,
    `ringing user=101 usertype=ext callerid=${CALLER} did=Main line id=${id(0)}`,
    `ringing user=102 usertype=ext callerid=${CALLER} did=Main line id=${id(0)}`,
    `hangupincoming user=102 callerid=${CALLER} did=Main line trtype=NotDef id=${id(1)}`,
    `incoming user=102 callerid=${CALLER} did=Main line finishtype=Ok transfer=false duration=2 id=${id(1)}`
  ])
})

t.test('ring group missed: ends at the group', async (t) => {
  const { events } = derive([
    `+10000#p1 Ringing party_dn=700 party_dn_type=Wringgroup party_caller_id=${CALLER}`,
    `+700#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    `+100#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=700 on_behalf_of_type=Wringgroup`,
    `+101#p4 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=700 on_behalf_of_type=Wringgroup`,
    'wait 15000',
    '-100#p3 ; -101#p4 ; -700#p2 ; -10000#p1'
  ])
  t.same(events.map((e) => `${e.payload.event} ${String(e.payload.user)}`), ['ringing 700', 'ringing 100', 'ringing 101', 'incoming 700'])
  t.match((events[3].payload as { title: string, finishtype: string }), { finishtype: 'Missed', title: /^Missed call in ring group 700 from \+15557654321 \(0:1\d\)$/ })
})

t.test('hunt queue re-rings the same agent: one ringing per DN per link', async (t) => {
  const agent = (dn: string, p: number): string => `+${dn}#p${p} Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=801 on_behalf_of_type=Wqueue`
  const { events } = derive([
    `+10000#p1 Ringing party_dn=801 party_dn_type=Wqueue party_caller_id=${CALLER}`,
    `+801#p2 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    agent('104', 3), 'wait 1000', '-104#p3', agent('105', 4), 'wait 1000', '-105#p4', agent('104', 5),
    '+104#p5 Connected', 'wait 1000', '-104#p5 ; -10000#p1'
  ])
  t.same(events.map((e) => `${e.payload.event} ${String(e.payload.user)} ${e.payload.id}`), [
    `ringing 801 ${id(0)}`, `ringing 104 ${id(0)}`, `ringing 105 ${id(0)}`, `hangupincoming 104 ${id(1)}`, `incoming 104 ${id(1)}`
  ])
  t.equal(events[0].payload.did, '', 'no inbound rule routes to 801: empty DID')
})

t.test('queue re-ring gap shorter than the grace period does not end the call', async (t) => {
  const { events } = derive([
    `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
    `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    '-102#p2 ; -10000#p1',
    'wait 1000',
    `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
    `+102#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    '+102#p3 Connected', 'wait 1000', '-102#p3 ; -10000#p1'
  ])
  t.same(events.map((e) => `${e.payload.event} ${e.payload.id}`), [
    `ringing ${id(0)}`, `hangupincoming ${id(1)}`, `incoming ${id(1)}`
  ])
})

t.test('duplicate and out-of-order updates change nothing', async (t) => {
  const { events } = derive([
    DIRECT_102[0], DIRECT_102[1], DIRECT_102[1].replace(' originated_by_dn=ROUTER originated_by_type=Wroutepoint', ''),
    '+102#p2 Connected', '+102#p2 Connected', '+102#p2 Ringing', '+10000#p1 Connected',
    'wait 2000', '-102#p2', '-102#p2', '+102#p2 Connected', '-10000#p1'
  ])
  t.same(events.map((e) => `${e.payload.event} ${e.payload.id}`), [
    `ringing ${id(0)}`, `hangupincoming ${id(1)}`, `incoming ${id(1)}`
  ])
})

t.test('a remove without a prior upsert is ignored', async (t) => {
  const tracker = new CallTracker({ callid: N, chid: CHID, graceMs: 2000 })
  t.same(tracker.remove('101', 77, T0), [])
  t.equal(tracker.deadline(), null)
  t.equal(tracker.legCount, 0)
})
