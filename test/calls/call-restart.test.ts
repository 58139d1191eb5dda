// A gateway restarted on the same database (kill -9: no stop()): calls in progress resume with the
// same chid and nothing is announced twice; a call that ended while the gateway was down is ended
// from the PBX's record; the state commits with the outbox rows of the events.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CallModel } from '../../src/calls/call-model.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import type { CallRecordLookup, PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { SqliteUnseenCallStore } from '../../src/store/sqlite-unseen-calls.js'
import { UnseenCalls } from '../../src/calls/unseen-calls.js'
import { CALLER, T0, changesOf } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

/** Both processes of a test run on this fake time, a minute after the scripts' T0 (their grace periods due). */
const fakeTime = (): FakeClock => new FakeClock(T0 + 60_000)

const brief = (e: CallEvent): string => {
  const p = e.payload as WebhookPayload & Record<string, unknown>
  return `${String(p.event)} ${String(p.user)} ${p.id}${p.finishtype !== undefined ? ` ${String(p.finishtype)}` : ''}`
}

const DIRECT = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
  '+102#p2 Connected ; +10000#p1 Connected'
]
const QUEUE = [
  `+10000#p11 Ringing party_dn=800 party_dn_type=Wqueue party_caller_id=${CALLER}`,
  `+800#p12 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
  '+10000#p11 Connected party_dn=800',
  `+101#p13 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} on_behalf_of_dn=800 on_behalf_of_type=Wqueue`
]

/** A database in a folder of its own, closed and removed after the test. */
function tempDatabase (t: Test): SqliteDatabase {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-calls-restart-'))
  const db = openDatabase(dir)
  t.teardown(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return db
}

interface Gateway { m: CallModel, events: CallEvent[], outbox: SqliteOutbox }

async function gateway (db: SqliteDatabase, clock: FakeClock, callRecords?: CallRecordLookup): Promise<Gateway> {
  const events: CallEvent[] = []
  const outbox = new SqliteOutbox(db, { targets: [] })
  const m = new CallModel({
    timeZone: 'UTC',
    graceMs: 20,
    internalCalls: true,
    stateStore: new SqliteCallStateStore(db),
    stateFlushMs: 5,
    clock,
    ...(callRecords !== undefined ? { callRecords, reconcileWaitMs: 300 } : {}),
    onEvent: (e) => {
      outbox.enqueue(e)
      events.push(e)
    }
  })
  await m.restore()
  return { m, events, outbox }
}

t.test('a restart resumes calls in progress and ends the ones that vanished', async (t) => {
  const db = tempDatabase(t)
  const clock = fakeTime()
  const direct = changesOf(DIRECT, 60)
  const queue = changesOf(QUEUE, 61)

  const first = await gateway(db, clock)
  for (const c of [...direct, ...queue]) first.m.apply(c)
  t.same(first.events.map(brief), [
    'ringing 102 261121083716_60-0', 'hangupincoming 102 261121083716_60-1',
    'ringing 800 261121083716_61-0', 'ringing 101 261121083716_61-0'
  ])
  const stored = (db.prepare('SELECT COUNT(*) AS n FROM live_calls').get() as { n: number }).n
  t.equal(stored, 2, 'both calls are on disk (written with their events)')
  // kill -9: no stop(), the first model is simply gone.

  const lookups: number[] = []
  const answeredIn = (callid: number): PbxCallRecord => ({
    callid, conversations: [{ user: '101', answeredAt: T0 + 20_000, endedAt: T0 + 25_000, talkSeconds: 5, trtype: 'NotDef' }], waitedIn: { dn: '800', dnType: 'Wqueue' }, endedAt: T0 + 25_000
  })
  const second = await gateway(db, clock, async (q) => { lookups.push(q.callid); return answeredIn(q.callid) })
  t.teardown(() => { second.m.stop() })
  t.equal(second.m.restored, 2)
  t.equal(second.m.size(), 2, 'resumed calls are listed before the first snapshot')
  t.ok(second.m.isTalking('102'))
  // First snapshot after the restart: call 60 still talking, call 61 ended while the gateway was down (101 had answered).
  second.m.apply(snapshotAfter(direct, T0 + 30_000))
  await clock.advance(100)
  t.same(lookups, [61], 'only the vanished call is looked up')
  t.same(second.events.map(brief), [
    'hangupincoming 101 261121083716_61-1',
    'incoming 101 261121083716_61-1 Ok'
  ], 'nothing re-announced; the vanished call ends as answered, under its old chid')
  t.same(second.m.list().map((c) => c.chid), ['261121083716_60'], 'the call in progress keeps its chid')

  for (const c of changesOf(['-102#p2 ; -10000#p1'], 60, T0 + 40_000)) second.m.apply(c)
  await clock.advance(100)
  t.same(second.events.slice(2).map(brief), ['incoming 102 261121083716_60-1 Ok'])
  t.equal((second.events[2].payload as unknown as Record<string, unknown>).duration, 40, 'duration counts from the answer before the restart')
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM live_calls').get() as { n: number }).n, 0, 'ended calls leave the store')
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM webhook_events').get() as { n: number }).n, 7, 'every event once in the outbox')
})

t.test('no PBX record within the wait: the model\'s own end; state not written twice per event', async (t) => {
  const db = tempDatabase(t)
  const clock = fakeTime()
  const first = await gateway(db, clock)
  for (const c of changesOf(QUEUE, 70)) first.m.apply(c)
  first.m.stop() // a clean stop writes pending state too
  const second = await gateway(db, clock, async () => null)
  t.teardown(() => { second.m.stop() })
  second.m.apply({ kind: 'resync', dns: [], at: T0 + 5000 })
  await clock.advance(50)
  t.same(second.events, [], 'still waiting for the PBX record')
  await clock.advance(500)
  t.same(second.events.map(brief), ['incoming 800 261121083716_70-0 Missed'])
})

t.test('a recovered call leaves the missing list in the transaction that announces it', async (t) => {
  const db = tempDatabase(t)
  const unseen = new UnseenCalls({ store: new SqliteUnseenCallStore(db) })
  unseen.note(100, T0)
  unseen.note(103, T0 + 1000) // 101 and 102 were never seen
  const outbox = new SqliteOutbox(db, { targets: [] })
  const m = new CallModel({ timeZone: 'UTC', graceMs: 20, internalCalls: true, unseen, stateStore: new SqliteCallStateStore(db), onEvent: (e) => { outbox.enqueue(e) } })
  t.teardown(() => { m.stop() })
  m.recover({
    callid: 101,
    origin: { direction: 'inbound', customerDn: '10000', customerNumber: CALLER, customerName: '', firstDestination: '102', firstDestinationType: 'Wextension', fromDn: '10000', startedAt: T0 + 200 },
    dns: ['10000', '102'],
    conversations: [{ user: '102', answeredAt: T0 + 300, endedAt: T0 + 900, talkSeconds: 1, trtype: 'NotDef' }],
    waitedIn: null,
    endedAt: T0 + 900
  })
  const rows = (db.prepare('SELECT payload FROM webhook_events').all() as Array<{ payload: string }>).map((r) => r.payload)
  t.ok(rows.length > 0 && rows.every((p) => p.includes('_101')), 'announced')
  // kill -9 right here, before call-recovery.ts resolves its round: the next run must not look 101 up again.
  const next = new UnseenCalls({ store: new SqliteUnseenCallStore(db) })
  await next.load()
  const missing = next.due(Number.MAX_SAFE_INTEGER, 0, 100).map((c) => c.callid)
  t.notOk(missing.includes(101), 'the announced call is no longer missing on disk')
  t.ok(missing.includes(102), 'the call not yet found still is')
  t.same(unseen.due(Number.MAX_SAFE_INTEGER, 0, 100).map((c) => c.callid), [102], 'in memory too')
  unseen.resolve([101])
  t.equal(unseen.size, 1, 'resolving it again afterwards changes nothing')
})
