// A call first seen in a catch-up snapshot (reads fell behind on a loaded machine) is dated by the
// first event of its legs when the PBX gives no times (ActiveCalls too slow to answer: data-dir.test.ts
// under load, 2026-12-07, chids 2.6 s after the calls' starts). Model on fake time.
import t from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import { CALLER, T0, changesOf } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

const CALLID = 1036

t.test('no PBX times: the chid dates the call from the first event of its legs, not from the snapshot', async (t) => {
  const clock = new FakeClock(T0 + 2600)
  const events: CallEvent[] = []
  const m = new CallModel({
    timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, callTimesWaitMs: 500,
    callTimes: async () => { throw new Error('GET ActiveCalls: the PBX did not answer within 2500 ms') },
    onEvent: (e) => { events.push(e) }
  })
  t.teardown(() => { m.stop() })
  const ringing = changesOf([
    `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
    `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`
  ], CALLID)
  const snapshot = snapshotAfter(ringing, clock.now())
  if (snapshot.kind !== 'resync') throw new Error('not a snapshot')
  m.apply({ ...snapshot, firstEvents: { '10000/1': T0 + 100, '102/2': T0 + 150 } })
  await clock.advance(1000)
  t.match(events.map((e) => e.payload), [{ event: 'ringing', user: '102', chid: `${new Date(T0).toISOString().slice(2, 19).replace(/[-T:]/g, '')}_${CALLID}` }])
  t.equal(m.list()[0]?.startedAt, T0 + 100, 'began by its first event')
})
