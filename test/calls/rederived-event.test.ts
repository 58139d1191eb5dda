// A call's events committed, its state not (the old stream holder was killed in between: on
// PostgreSQL the state is written only after its events): the new holder resumes the older state
// and derives the call-started event again. It has the committed one's key, so the outbox keeps the
// first copy and the receiver gets the call started once (test/replicas/failover.test.ts saw it twice,
// the second with an earlier timestamp, counted "out of order"). Feed and model on fake time.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallStateStore } from '../../src/calls/call-ports.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { CallParticipant } from '../../src/pbx/callcontrol-types.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import type { Clock } from '../../src/clock.js'
import { started } from '../pbx/feed-harness.js'
import { participant } from '../pbx/fake-callcontrol.js'
import { target } from '../webhooks/helpers.js'

const CALLID = 78
const legsOf = (status: CallParticipant['status']): [CallParticipant, CallParticipant] => [
  participant('10000', 1, { status, callid: CALLID, party_dn: '101', party_dn_type: 'Wextension' }),
  participant('101', 2, { status, callid: CALLID })
]
const dnTypeOf = (p: CallParticipant): 'Wextension' | 'Wexternalline' => p.dn === '101' ? 'Wextension' : 'Wexternalline'

t.test('events committed but the call state not: the new holder derives call-started again, it is delivered once', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-rederived-'))
  const db = openDatabase(dir)
  t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const h = await started(t, false)
  const outbox = new SqliteOutbox(db, { targets: [target('all', 'http://127.0.0.1:1/all')], now: () => h.clock.now() })
  const states = new SqliteCallStateStore(db)
  const model = async (store: CallStateStore, clock: Clock, onEvent: (e: CallEvent) => void): Promise<CallModel> => {
    const m = new CallModel({
      timeZone: 'UTC',
      graceMs: 300,
      internalCalls: true,
      clock,
      stateStore: store,
      stateFlushMs: 5,
      callRecords: async () => null,
      callTimes: async () => new Map(),
      oldestPendingChange: () => h.feed.oldestPendingUpsert(),
      blindSince: () => h.feed.blindSince(),
      onEvent
    })
    await m.restore()
    return m
  }

  // The old holder: 101 rings (the state written with the ringing event), then answers: the
  // call-started event commits, the state behind it is cut off (SIGKILL), and nothing after.
  let stateCut = false
  let dead = false
  const lagging: CallStateStore = {
    loadAll: async () => await states.loadAll(),
    write: (save, remove) => stateCut || states.write(save, remove),
    atomically: (fn) => states.atomically(fn)
  }
  const old = await model(lagging, h.clock, (e) => { if (!dead) outbox.enqueue(e) })
  const upsert = (m: CallModel, status: CallParticipant['status']): void => {
    for (const p of legsOf(status)) m.apply({ kind: 'upsert', participant: p, dnType: dnTypeOf(p), at: h.clock.now() })
  }
  upsert(old, 'Ringing')
  await h.clock.advance(20)
  stateCut = true
  upsert(old, 'Connected')
  dead = true
  const types = (): string[] => outbox.pendingJobs('all').map((j) => String(outbox.loadEvent(j.eventId)?.payload.event))
  t.same(types(), ['ringing', 'hangupincoming'], 'the old holder committed ringing and call-started')

  // The new holder resumes 101 ringing, as its first snapshot shows it; then reads the answer and the end.
  await h.clock.advance(600)
  const derived: CallEvent[] = []
  const next = await model(states, h.clock, (e) => { derived.push(e); outbox.enqueue(e) })
  t.teardown(() => { next.stop() })
  t.equal(next.restored, 1, 'resumed from the state of 101 ringing')
  h.feed.onChange((c) => { next.apply(c) })
  const show = (status: CallParticipant['status'] | null): void => {
    const [trunk, ext] = status === null ? [] : legsOf(status)
    h.reader.dns = [
      { dn: '101', type: 'Wextension', devices: [], participants: ext === undefined ? [] : [ext] },
      { dn: '10000', type: 'Wexternalline', devices: [], participants: trunk === undefined ? [] : [trunk] }
    ]
  }
  show('Ringing')
  h.feed.opened()
  await h.feed.ready()
  show('Connected')
  await h.send(0, '10000', 1)
  await h.send(0, '101', 2)
  await h.clock.advance(1000)
  show(null)
  await h.send(1, '101', 2)
  await h.send(1, '10000', 1)
  await h.clock.advance(5000)

  t.same(derived.map((e) => e.payload.event), ['hangupincoming', 'incoming'], 'the new holder derived call-started again')
  t.same(types(), ['ringing', 'hangupincoming', 'incoming'], 'one call-started delivery: the first copy')
  t.equal(outbox.rederived, 1, 'counted')
  t.equal(next.size(), 0)
})
