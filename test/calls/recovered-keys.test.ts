// A call announced live by a stream holder killed before the call's state was written (on
// PostgreSQL the state waits for its events, and the call leaves the unseen list only with it),
// which then ends while nobody holds the stream: the next holder finds no state, but the call on
// its unseen list, and recovers it from the call log (call-recovery.ts). The recovered call-started
// event must have the live one's natural key, so the outbox keeps the first copy and the receiver
// gets the call started once (tenant-faults.test.ts saw it twice after a take-over: the live one
// and the call log's). And a call held for the PBX's times is not recovered meanwhile: it is seen live.
// Model, unseen list, recovery and outbox on fake time.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CallModel } from '../../src/calls/call-model.js'
import { CallRecovery } from '../../src/calls/call-recovery.js'
import { UnseenCalls } from '../../src/calls/unseen-calls.js'
import type { CallStateStore } from '../../src/calls/call-ports.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import type { CallParticipant } from '../../src/pbx/callcontrol-types.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { SqliteUnseenCallStore } from '../../src/store/sqlite-unseen-calls.js'
import { FakeClock } from '../fake-clock.js'
import { participant } from '../pbx/fake-callcontrol.js'
import { target } from '../webhooks/helpers.js'

const CALLID = 91
const EXT = '+15550001111'
const legsOf = (status: CallParticipant['status']): [CallParticipant, CallParticipant] => [
  participant('10000', 1, { status, callid: CALLID, party_dn: '101', party_dn_type: 'Wextension', party_caller_id: EXT }),
  participant('101', 2, { status, callid: CALLID, party_caller_id: EXT })
]

t.test('a call announced live, its state never written, ended unseen: recovered from the call log, call-started delivered once', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-recovered-keys-'))
  const db = openDatabase(dir)
  t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const clock = new FakeClock(Date.parse('2026-12-06T21:03:20.000Z'))
  const outbox = new SqliteOutbox(db, { targets: [target('all', 'http://127.0.0.1:1/all')], now: () => clock.now() })
  const states = new SqliteCallStateStore(db)
  const unseenStore = new SqliteUnseenCallStore(db)
  const model = async (store: CallStateStore, unseen: UnseenCalls, onEvent: (e: CallEvent) => void): Promise<CallModel> => {
    await unseen.load()
    const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, stateStore: store, stateFlushMs: 5, unseen, callRecords: async () => null, onEvent })
    await m.restore()
    return m
  }

  // The old holder has counted calls up to 90; it sees 101 ring and answer, its events commit, its
  // state writes never do (killed: the state and the call's leaving the unseen list are lost).
  unseenStore.saveHighest(90, clock.now())
  const neverWritten: CallStateStore = { loadAll: async () => [], write: () => false, atomically: (fn) => fn() }
  const old = await model(neverWritten, new UnseenCalls({ store: unseenStore }), (e) => { outbox.enqueue(e) })
  const T = clock.now()
  for (const p of legsOf('Ringing')) old.apply({ kind: 'upsert', participant: p, dnType: p.dn === '101' ? 'Wextension' : 'Wexternalline', at: clock.now() })
  await clock.advance(600)
  for (const p of legsOf('Connected')) old.apply({ kind: 'upsert', participant: p, dnType: p.dn === '101' ? 'Wextension' : 'Wexternalline', at: clock.now() })
  old.stop()
  const types = (): string[] => outbox.pendingJobs('all').map((j) => String(outbox.loadEvent(j.eventId)?.payload.event))
  t.same(types(), ['ringing', 'hangupincoming'], 'the old holder committed ringing and call-started')

  // The call ends while nobody holds the stream; the next holder has no state of it, but it is unseen.
  await clock.advance(5000)
  // The PBX's record: 101 answered 480 ms in (the holder saw it 600 ms in), hung up 2.5 s in.
  const origin = { direction: 'inbound' as const, customerDn: '10000', customerNumber: EXT, customerName: '', firstDestination: '101', firstDestinationType: 'Wextension' as const, fromDn: '10000', startedAt: T }
  const talk = { user: '101', answeredAt: T + 480, endedAt: T + 2500, talkSeconds: 2, trtype: 'NotDef' as const }
  const record: PbxCallRecord = { callid: CALLID, origin, dns: ['10000', '101'], conversations: [talk], waitedIn: null, endedAt: talk.endedAt }
  const unseen = new UnseenCalls({ store: unseenStore })
  const derived: CallEvent[] = []
  const next = await model(states, unseen, (e) => { derived.push(e); outbox.enqueue(e) })
  t.teardown(() => { next.stop() })
  t.equal(next.restored, 0, 'no state to resume')
  t.same(unseen.due(clock.now(), 0, 10).map((m) => m.callid), [CALLID], 'the call is on the unseen list')
  const recovery = new CallRecovery({
    unseen,
    lookup: async () => new Map([[CALLID, record]]),
    live: () => true,
    monitored: () => true,
    recover: (r) => { next.recover(r) },
    settleMs: 0,
    now: () => clock.now()
  })
  await recovery.tick()

  t.same(derived.map((e) => e.payload.event), ['hangupincoming', 'incoming'], 'recovered: call-started and call-ended from the call log')
  t.same(types(), ['ringing', 'hangupincoming', 'incoming'], 'one call-started delivery: the live one')
  t.equal(outbox.rederived, 1, 'the repeat counted')
  t.equal(unseen.size, 0)
})

t.test('a call held for the PBX\'s times while the recovery looks it up is announced live only', async (t) => {
  const clock = new FakeClock(Date.parse('2026-12-06T21:03:22.000Z'))
  let times: (m: Map<number, { startedAt: number, answeredAt: number | null }>) => void = () => {}
  const events: CallEvent[] = []
  // The PBX's times are slow to come: the call is held meanwhile.
  const callTimes = async (): Promise<Map<number, { startedAt: number, answeredAt: number | null }>> => await new Promise((resolve) => { times = resolve })
  const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, callTimes, onEvent: (e) => { events.push(e) } })
  t.teardown(() => { m.stop() })
  const T = clock.now()
  const [trunk, ext] = legsOf('Ringing')
  m.apply({ kind: 'resync', dns: [{ dn: '10000', type: 'Wexternalline', devices: [], participants: [trunk] }, { dn: '101', type: 'Wextension', devices: [], participants: [ext] }], at: T })
  // The call log lists the call while it rings (its record as far as it goes): nobody answered so far.
  const origin = { direction: 'inbound' as const, customerDn: '10000', customerNumber: EXT, customerName: '', firstDestination: '101', firstDestinationType: 'Wextension' as const, fromDn: '10000', startedAt: T - 400 }
  m.recover({ callid: CALLID, origin, dns: ['10000', '101'], conversations: [], waitedIn: null, endedAt: T })
  t.same(events, [], 'nothing announced from the record of a call seen live')
  times(new Map([[CALLID, { startedAt: T - 400, answeredAt: null }]]))
  await clock.advance(10)
  t.same(events.map((e) => `${e.payload.event} ${String(e.payload.user)}`), ['ringing 101'], 'the live path announces it')
})
