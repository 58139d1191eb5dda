// The CallModel around the trackers: busy/talking, the cached list, reserve(), internal-call
// suppression, grace timers, and resync (including one in the middle of a blind transfer). On fake time.
import t from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import { CALLER, T0, changesOf } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

/** A model on fake time, a minute after the scripts' T0: the changes' grace periods are all due. */
function model (over: Partial<ConstructorParameters<typeof CallModel>[0]> = {}): { m: CallModel, events: CallEvent[], clock: FakeClock } {
  const events: CallEvent[] = []
  const clock = new FakeClock(T0 + 60_000)
  const m = new CallModel({ timeZone: 'UTC', graceMs: 20, internalCalls: true, onEvent: (e) => events.push(e), clock, ...over })
  return { m, events, clock }
}

const DIRECT = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
  '+102#p2 Connected ; +10000#p1 Connected'
]

t.test('onChange: listeners hear every change of the list, until they unsubscribe', async (t) => {
  const { m } = model()
  t.teardown(() => { m.stop() })
  const sizes: number[] = []
  const off = m.onChange(() => { sizes.push(m.list().length) })
  const changes = changesOf(DIRECT, 8)
  m.apply(changes[0])
  t.same(sizes, [1], 'the new call is in the list the listener reads')
  off()
  for (const c of changes.slice(1)) m.apply(c)
  t.same(sizes, [1], 'nothing after unsubscribing')
})

t.test('onChange: a listener that throws does not stop the model', async (t) => {
  const errors: string[] = []
  const { m, events } = model({ log: { error: (_o, msg) => { errors.push(msg ?? '') } } })
  t.teardown(() => { m.stop() })
  m.onChange(() => { throw new Error('viewer bug') })
  for (const c of changesOf(DIRECT, 9)) m.apply(c)
  t.equal(m.list().length, 1)
  t.ok(events.length > 0, 'events still emitted')
  t.ok(errors.includes('a call list listener failed'))
})

t.test('busy, talking, list cache and states', async (t) => {
  const { m, events, clock } = model()
  t.teardown(() => { m.stop() })
  const changes = changesOf(DIRECT, 7)
  m.apply(changes[0])
  m.apply(changes[1])
  t.ok(m.isBusy('102'))
  t.notOk(m.isTalking('102'))
  const ringingList = m.list()
  t.equal(m.list(), ringingList, 'the list is cached until the next change')
  t.match(ringingList[0], { callid: 7, direction: 'Inbound', state: 'Routing', legacyId: '261121083716_7-0', answeredAt: null })
  for (const c of changes.slice(2)) m.apply(c)
  t.not(m.list(), ringingList)
  t.ok(m.isTalking('102'))
  t.match(m.list()[0], { state: 'Talking', legacyId: '261121083716_7-1' })
  t.match(m.list()[0].legs.map((l) => `${l.dn} ${l.dnType} ${l.status} ${l.externalParty}`).sort(), [
    `10000 externalline Connected ${CALLER}`, `102 extension Connected ${CALLER}`
  ])
  t.equal(m.size(), 1)
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 5000 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 5000 })
  t.notOk(m.isBusy('102'))
  t.equal(m.size(), 0, 'a call without legs is not listed')
  t.equal(events.length, 2, 'the end waits for the grace period')
  await clock.advance(60)
  t.same(events.map((e) => e.payload.event), ['ringing', 'hangupincoming', 'incoming'])
  t.equal(m.endedLeg('261121083716_7-1')?.duration, 5)
})

t.test('reserve(): makecall ids before and after the first participant', async (t) => {
  const { m, events } = model({ timeZone: 'Europe/Berlin' })
  t.teardown(() => { m.stop() })
  const r = m.reserve(42, T0)
  t.same(r, { chid: '261121093716_42', legacyId: '261121093716_42-0' }, 'time prefix in the PBX time zone')
  t.same(m.reserve(42, T0 + 3000), r, 'same ids when asked again')
  for (const c of changesOf(['+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+15559870000'], 42, T0 + 5000)) m.apply(c)
  t.equal(m.list()[0].chid, r.chid, 'the call carries the reserved chid')
  t.same(m.reserve(42, T0 + 9000), r)
  const other = model()
  t.teardown(() => { other.m.stop() })
  for (const c of changesOf(['+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+1'], 43)) other.m.apply(c)
  t.same(other.m.reserve(43, T0 + 60_000), { chid: '261121083716_43', legacyId: '261121083716_43-0' }, 'a known call answers its own ids')
  t.equal(events.length, 0)
})

t.test('reserve(): a call already answered still answers the id of its start, as the first makecall did', async (t) => {
  // A double click (or a standby asking the holder) after the call moved on to its first conversation (-1):
  // the answer must not depend on how far the call got meanwhile.
  const { m, events } = model()
  t.teardown(() => { m.stop() })
  for (const c of changesOf(DIRECT, 44)) m.apply(c)
  t.ok(events.some((e) => e.payload.id === '261121083716_44-1'), 'the call is in its first conversation (-1)')
  t.same(m.reserve(44, T0 + 9000), { chid: '261121083716_44', legacyId: '261121083716_44-0' })
})

t.test('WEBHOOK_INTERNAL_CALLS=off suppresses internal calls only', async (t) => {
  const { m, events, clock } = model({ internalCalls: false })
  t.teardown(() => { m.stop() })
  for (const c of changesOf([
    '+101#p1 Dialing party_dn=102 party_dn_type=Wextension party_caller_id=102',
    '+102#p2 Ringing party_dn=101 party_dn_type=Wextension party_caller_id=101',
    '+102#p2 Connected ; +101#p1 Connected ; -102#p2 ; -101#p1'
  ], 50)) m.apply(c)
  for (const c of changesOf(DIRECT, 51)) m.apply(c)
  await clock.advance(60)
  t.ok(events.length > 0)
  t.ok(events.every((e) => e.chain.endsWith('_51')), 'only the external call')
  t.equal(m.eventCounts.started, 2, 'internal events are still counted')
})

t.test('resync: vanished calls end after the grace period, new calls start', async (t) => {
  const { m, events, clock } = model()
  t.teardown(() => { m.stop() })
  for (const c of changesOf(DIRECT, 60)) m.apply(c)
  const fresh = changesOf([
    '+101#p1 Dialing party_dn=10000 party_dn_type=Wexternalline party_caller_id=+15559870000',
    '+10000#p2 Connected party_dn=101 party_dn_type=Wextension party_caller_id=+15559870000 ; +101#p1 Connected'
  ], 61)
  m.apply(snapshotAfter(fresh, T0 + 10_000))
  await clock.advance(60)
  t.same(events.map((e) => `${e.payload.event} ${e.payload.id}`), [
    'ringing 261121083716_60-0', 'hangupincoming 261121083716_60-1',
    'hangupoutgoing 261121083726_61-1', 'incoming 261121083716_60-1'
  ])
  t.equal(m.size(), 1)
  t.ok(m.isTalking('101'))
  t.notOk(m.isBusy('102'))
})

t.test('resync in the middle of a blind transfer', async (t) => {
  const { m, events, clock } = model()
  t.teardown(() => { m.stop() })
  const all = changesOf([
    ...DIRECT,
    `-102#p2 ; +103#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension ; +10000#p1 Connected party_dn=103`
  ], 70)
  for (const c of all.slice(0, 4)) m.apply(c) // then the socket drops: the transfer is only seen in the snapshot
  m.apply(snapshotAfter(all, T0 + 4000))
  t.equal(m.list()[0].state, 'Transferring')
  const after = changesOf(['+103#p3 Connected', '-103#p3 ; -10000#p1'], 70, T0 + 5000)
  // changesOf() starts a fresh entity map: give it the transfer leg's fields.
  const answered = { ...(all[5] as ParticipantChange & { kind: 'upsert' }), at: T0 + 5000 }
  m.apply({ ...answered, participant: { ...answered.participant, status: 'Connected' } })
  for (const c of after.slice(1)) m.apply(c)
  await clock.advance(60)
  t.same(events.map((e) => `${e.payload.event} ${String(e.payload.user)} ${e.payload.id}${'trtype' in e.payload ? ' ' + e.payload.trtype : ''}${'transfer' in e.payload ? ' ' + String(e.payload.transfer) : ''}`), [
    'ringing 102 261121083716_70-0',
    'hangupincoming 102 261121083716_70-1 NotDef',
    'incoming 102 261121083716_70-1 true',
    'ringing 103 261121083716_70-2',
    'hangupincoming 103 261121083716_70-2 Blind',
    'incoming 103 261121083716_70-2 false'
  ])
})

t.test('a sink that throws does not break the model', async (t) => {
  const errors: unknown[] = []
  const m = new CallModel({ timeZone: 'UTC', graceMs: 20, internalCalls: true, onEvent: () => { throw new Error('sink down') }, log: { error: (o) => errors.push(o) } })
  t.teardown(() => { m.stop() })
  for (const c of changesOf(DIRECT, 80)) m.apply(c)
  t.equal(errors.length, 2)
  t.ok(m.isTalking('102'))
})

t.test('an end waits while a change announced before its deadline is still being fetched', async (t) => {
  let pending: number | null = null
  const { m, events, clock } = model({ graceMs: 20, oldestPendingChange: () => pending })
  t.teardown(() => { m.stop() })
  const now = clock.now()
  for (const c of changesOf(DIRECT, 11, now)) m.apply(c)
  pending = now // e.g. the transfer target's upsert, still being fetched from a slow PBX
  m.apply({ kind: 'remove', dn: '102', id: 2, at: now })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: now })
  await clock.advance(120)
  t.equal(events.filter((e) => e.type === 'ended').length, 0, 'not ended while the earlier change is pending')
  pending = null
  await clock.advance(120)
  t.equal(events.filter((e) => e.type === 'ended').length, 1, 'ended once it was fetched')
})

t.test('an end due while the PBX cannot be seen waits for the next snapshot, however long (no 10 s cap)', async (t) => {
  let blind: number | null = null
  const { m, events, clock } = model({ graceMs: 20, blindSince: () => blind })
  t.teardown(() => { m.stop() })
  const now = clock.now() - 20_000 // the conversation ended long ago: past the 10 s cap of pending fetches
  for (const c of changesOf(DIRECT, 12, now)) m.apply(c)
  blind = now // the WebSocket dropped; what happened next is unknown
  m.apply({ kind: 'remove', dn: '102', id: 2, at: now + 100 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: now + 100 })
  await clock.advance(120)
  t.equal(events.filter((e) => e.type === 'ended').length, 0, 'not ended while blind')
  blind = null // the snapshot was applied
  await clock.advance(120)
  t.equal(events.filter((e) => e.type === 'ended').length, 1)
})

// A call already talking when the gateway starts or reconnects (fault suite: call 1141 arrived
// 08:01:42, talked 6.5 s, was announced as 261205080147_1141 with duration 2).
const TALKING = [
  `+10000#p1 Connected party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`
]

t.test('a call first seen in progress in a snapshot is dated and timed from the PBX, its changes held until then', async (t) => {
  const asked: number[][] = []
  let answer = (): void => {}
  const { m, events, clock } = model({
    callTimes: async (ids) => {
      asked.push([...ids])
      await new Promise<void>((resolve) => { answer = resolve })
      return new Map([[1141, { startedAt: T0 + 300, answeredAt: T0 + 1500 }]])
    }
  })
  t.teardown(() => { m.stop() })
  m.apply(snapshotAfter(changesOf(TALKING, 1141), T0 + 5000)) // seen 5 s after it began
  // The caller hangs up while the PBX is being asked: the change waits behind the snapshot's.
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 11_500 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 11_510 })
  t.same(events, [], 'nothing is announced before the times are known')
  t.same(asked, [[1141]])
  answer()
  await clock.advance(80)
  t.same(events.map((e) => `${e.payload.event} ${e.payload.id} ${String((e.payload as { duration?: number }).duration ?? '')}`), [
    'hangupincoming 261121083716_1141-1 ',
    'incoming 261121083716_1141-1 10'
  ], 'the chid dates the call from 08:37:16, the duration counts from the answer at +1.5 s')
  t.equal(m.size(), 0)
})

t.test('without the PBX\'s times (lookup failing), a held call goes on after callTimesWaitMs with what the gateway saw', async (t) => {
  let tries = 0
  const warnings: string[] = []
  const { m, events, clock } = model({
    callTimesWaitMs: 150,
    callTimes: async () => { tries++; throw new Error('XAPI down') },
    log: { error: () => {}, warn: (_o, msg) => { warnings.push(String(msg)) } }
  })
  t.teardown(() => { m.stop() })
  m.apply(snapshotAfter(changesOf(TALKING, 1142), T0 + 5000))
  await clock.advance(400)
  t.ok(tries > 1, 'retried')
  t.same(events.map((e) => `${e.payload.event} ${e.payload.id}`), ['hangupincoming 261121083721_1142-1'])
  t.match(events[0].payload, { timing: 'approximate' }, 'the event says its times are the gateway\'s')
  t.ok(warnings.some((w) => /gave no times/.test(w)))
  t.ok(m.isTalking('102'))
})

// A call the model knew, ringing, answered during a gap (WebSocket down, gateway restarted): the
// snapshot after it shows the leg Connected. The answer is the PBX's (ActiveCalls), not the snapshot's.
const RINGING = DIRECT.slice(0, 2)
const stamp = (e: CallEvent): string => {
  const p = e.payload as { event: string, timestamp: string, duration?: number, timing?: string }
  return [p.event, p.timestamp.slice(11, 19), p.duration, p.timing].filter((x) => x !== undefined).join(' ')
}

t.test('a known call answered during a gap is timed from the PBX\'s answer; changes wait for it', async (t) => {
  let answer = (): void => {}
  const asked: number[][] = []
  const { m, events, clock } = model({
    callTimes: async (ids) => {
      asked.push([...ids])
      await new Promise<void>((resolve) => { answer = resolve })
      return new Map([[21, { startedAt: T0, answeredAt: T0 + 2000 }]])
    }
  })
  t.teardown(() => { m.stop() })
  const ringing = changesOf(RINGING, 21)
  for (const c of ringing) m.apply(c)
  t.same(events.map(stamp), ['ringing 08:37:16'])
  m.apply(snapshotAfter(changesOf(DIRECT, 21), T0 + 10_000))
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 15_000 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 15_010 })
  t.same(asked, [[21]], 'the PBX is asked for the known call')
  t.equal(events.length, 1, 'its changes wait for the answer')
  answer()
  await clock.advance(80)
  t.same(events.map(stamp), ['ringing 08:37:16', 'hangupincoming 08:37:18', 'incoming 08:37:31 13'], 'started at the answer, 13 s talked')
})

t.test('a known call answered during a gap without the PBX\'s time: its events say timing=approximate', async (t) => {
  const { m, events, clock } = model({ callTimes: async () => new Map(), callTimesWaitMs: 10 })
  t.teardown(() => { m.stop() })
  for (const c of changesOf(RINGING, 22)) m.apply(c)
  m.apply(snapshotAfter(changesOf(DIRECT, 22), T0 + 10_000))
  await clock.advance(30)
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 15_000 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 15_010 })
  await clock.advance(80)
  t.same(events.map(stamp), ['ringing 08:37:16', 'hangupincoming 08:37:26 approximate', 'incoming 08:37:31 5 approximate'], 'dated from the snapshot, and saying so')
})

t.test('the PBX\'s answer a little before the last sight of the call ringing (clock offset) is taken as that sight', async (t) => {
  const { m, events, clock } = model({ callTimes: async () => new Map([[23, { startedAt: T0, answeredAt: T0 - 500 }]]) })
  t.teardown(() => { m.stop() })
  for (const c of changesOf(RINGING, 23)) m.apply(c)
  m.apply(snapshotAfter(changesOf(DIRECT, 23), T0 + 10_000))
  await clock.advance(30)
  t.same(events.map(stamp), ['ringing 08:37:16', 'hangupincoming 08:37:16'])
  t.notOk('timing' in events[1].payload)
})

t.test('transferred during a gap: ActiveCalls dates only the first answer, so both conversations say timing=approximate', async (t) => {
  const { m, events, clock } = model({ callTimes: async () => new Map([[24, { startedAt: T0, answeredAt: T0 + 30 }]]) })
  t.teardown(() => { m.stop() })
  for (const c of changesOf(DIRECT, 24)) m.apply(c)
  const after = changesOf([...DIRECT, '-102#p2', `+103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension`], 24)
  m.apply(snapshotAfter(after, T0 + 10_000))
  await clock.advance(30)
  t.same(events.slice(1).map((e) => `${stamp(e)} ${e.payload.user}`), [
    'hangupincoming 08:37:16 102',
    'incoming 08:37:26 10 approximate 102',
    'hangupincoming 08:37:26 approximate 103'
  ])
  // The target's conversation ends observed: its start was not, so its duration is a lower bound.
  m.apply({ kind: 'remove', dn: '103', id: 5, at: T0 + 14_000 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 14_010 })
  await clock.advance(80)
  t.same(events.slice(4).map(stamp), ['incoming 08:37:30 4 approximate'])
})

t.test('a held call that ended before ActiveCalls was asked is dated from its call-log record', async (t) => {
  const asked: number[] = []
  const { m, events, clock } = model({
    callTimes: async () => new Map(), // no longer in progress: not listed
    callRecords: async (q) => {
      asked.push(q.callid)
      return { callid: q.callid, origin: { direction: 'inbound', customerDn: '10000', customerNumber: CALLER, customerName: '', firstDestination: '102', firstDestinationType: 'Wextension', fromDn: '10000', startedAt: T0 + 300 }, conversations: [{ user: '102', answeredAt: T0 + 1500, endedAt: T0 + 5600, talkSeconds: 4.1, trtype: 'NotDef' }], waitedIn: null, endedAt: T0 + 5600 }
    }
  })
  t.teardown(() => { m.stop() })
  m.apply(snapshotAfter(changesOf(TALKING, 1143), T0 + 5000))
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 5600 })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: T0 + 5610 })
  await clock.advance(80)
  t.same(asked, [1143, 1143], 'for its times, then for its end (first seen answered: what came before is the PBX record\'s to tell)')
  t.same(events.map((e) => `${stamp(e)} ${e.payload.id}`), ['hangupincoming 08:37:17 261121083716_1143-1', 'incoming 08:37:21 4 261121083716_1143-1'], 'chid from its start, 4 s talked (not 0)')
})

t.test('a held call still going on is not looked up in the call log; without times it goes on after callTimesWaitMs', async (t) => {
  let logLookups = 0
  const { m, events, clock } = model({ callTimes: async () => new Map(), callTimesWaitMs: 150, callRecords: async () => { logLookups++; return null } })
  t.teardown(() => { m.stop() })
  m.apply(snapshotAfter(changesOf(TALKING, 1144), T0 + 5000))
  await clock.advance(50)
  t.same(events, [], 'ActiveCalls is asked again meanwhile (the call may be listed late)')
  await clock.advance(250)
  t.equal(logLookups, 0)
  t.same(events.map(stamp), ['hangupincoming 08:37:21 approximate'])
})

t.test('a leg that moves to another call while its call waits for the PBX\'s times is removed from the held call only', async (t) => {
  let answer = (): void => {}
  const { m, clock } = model({
    callTimes: async () => {
      await new Promise<void>((resolve) => { answer = resolve })
      return new Map([[31, { startedAt: T0, answeredAt: T0 + 2000 }]])
    }
  })
  t.teardown(() => { m.stop() })
  for (const c of changesOf(RINGING, 31)) m.apply(c)
  const snapshot = snapshotAfter(changesOf(DIRECT, 31), T0 + 10_000)
  m.apply(snapshot)
  const trunk = changesOf(DIRECT, 31).filter((c) => c.kind === 'upsert' && c.participant.dn === '10000').at(-1)
  if (trunk?.kind !== 'upsert') throw new Error('no trunk leg')
  m.apply({ ...trunk, participant: { ...trunk.participant, callid: 32 }, at: T0 + 10_100 }) // the trunk leg now in call 32
  answer()
  await clock.advance(80)
  t.same(m.list().map((c) => `${c.callid} ${c.legs.map((l) => l.dn).join(',')}`).sort(), ['31 102', '32 10000'])
  t.ok(m.isBusy('10000'), 'still busy in its new call')
})

t.test('a known call held for the PBX\'s times is not ended by its grace timer meanwhile (nothing announced twice)', async (t) => {
  let answer = (): void => {}
  const { m, events, clock } = model({
    callTimes: async () => {
      await new Promise<void>((resolve) => { answer = resolve })
      return new Map([[41, { startedAt: T0, answeredAt: T0 + 30 }]])
    },
    callRecords: async () => null,
    reconcileWaitMs: 10
  })
  t.teardown(() => { m.stop() })
  const talking = changesOf(DIRECT, 41)
  for (const c of talking) m.apply(c)
  m.apply({ kind: 'remove', dn: '102', id: 2, at: T0 + 100 }) // 102 hangs up its leg: the grace period runs
  const transferred = changesOf([...DIRECT, '-102#p2', `+103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension`], 41)
  m.apply(snapshotAfter(transferred, T0 + 150)) // …and a snapshot shows 103 talking: held
  await clock.advance(120) // far beyond the 20 ms grace period
  t.same(events.slice(2).map((e) => `${e.payload.event} ${e.payload.user}`), [], 'the end waits for the held changes')
  answer()
  await clock.advance(80)
  t.same(events.slice(2).map((e) => `${e.payload.event} ${e.payload.user} ${String((e.payload as { transfer?: string }).transfer ?? '')}`.trim()), ['incoming 102 true', 'hangupincoming 103'], '102 was transferred, not hung up')
})

t.test('a call that vanished in a gap: the call log is asked again after a failure, then the end is the gateway\'s guess after reconcileWaitMs', async (t) => {
  const lookups: number[] = []
  const warnings: string[] = []
  const { m, events, clock } = model({
    callRecords: async (q) => {
      lookups.push(clock.now())
      if (lookups.length === 1) throw new Error('XAPI down')
      return null // 3CX has not written the record (yet)
    },
    reconcileWaitMs: 1000,
    log: { error: () => {}, warn: (_o, msg) => { warnings.push(String(msg)) } }
  })
  t.teardown(() => { m.stop() })
  for (const c of changesOf(DIRECT, 90)) m.apply(c)
  m.apply({ kind: 'resync', dns: [], at: T0 + 10_000 }) // both legs gone, unobserved
  await clock.advance(100)
  t.equal(events.filter((e) => e.type === 'ended').length, 0, 'still asking the PBX')
  t.ok(warnings.some((w) => /record of a call failed; retrying/.test(w)), 'the failed lookup is logged and retried')
  await clock.advance(1000)
  t.ok(lookups.length > 2, 'asked until reconcileWaitMs ran out')
  t.ok((lookups.at(-1) ?? 0) - lookups[0] >= 1000, 'the retries wait on the model\'s clock')
  t.equal(events.filter((e) => e.type === 'ended').length, 1, 'ended with what the gateway knew')
  t.ok(warnings.some((w) => /has no record/.test(w)))
  t.equal(m.size(), 0)
})
