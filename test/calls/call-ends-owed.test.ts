// CallModel.endsOwed() (/metrics gateway_call_ends_owed): how many calls still owe their call-ended
// events. size() (pbx.ac.get, gateway_calls_in_progress) drops as soon as the legs are gone, while
// the end waits for its grace period, a held call's times or the PBX's record; a test or an operator
// that took "no call in progress" for "every call announced" read the outbox before the last ends
// were in it (test/replicas/failover.test.ts lost the last call's call-ended event that way). On fake time.
import t from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { PbxCallTimes } from '../../src/calls/pbx-call-times.js'
import { CALLER, T0, changesOf } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

const DIRECT = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
  '+102#p2 Connected ; +10000#p1 Connected'
]

function model (over: Partial<ConstructorParameters<typeof CallModel>[0]> = {}): { m: CallModel, events: CallEvent[], clock: FakeClock } {
  const events: CallEvent[] = []
  const clock = new FakeClock(T0 + 60_000)
  const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, onEvent: (e) => events.push(e), clock, ...over })
  return { m, events, clock }
}

const ended = (events: CallEvent[]): number => events.filter((e) => e.type === 'ended').length

t.test('a call whose legs are gone is no longer in progress, but owes its end until the grace period is over', async (t) => {
  const { m, events, clock } = model()
  t.teardown(() => { m.stop() })
  t.equal(m.endsOwed(), 0, 'nothing owed before any call')
  for (const c of changesOf(DIRECT, 7)) m.apply(c)
  t.equal(m.size(), 1)
  t.equal(m.endsOwed(), 1, 'a call in progress owes its end')
  m.apply({ kind: 'remove', dn: '102', id: 2, at: clock.now() })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: clock.now() })
  t.equal(m.size(), 0, 'no call in progress once the legs are gone')
  t.equal(ended(events), 0, 'the call-ended event waits for the grace period')
  t.equal(m.endsOwed(), 1, 'so the end is still owed')
  await clock.advance(299)
  t.equal(m.endsOwed(), 1, 'still owed just before the grace period is over')
  await clock.advance(2)
  t.equal(ended(events), 1, 'the call-ended event is emitted')
  t.equal(m.endsOwed(), 0, 'and nothing is owed any more')
})

t.test('a call first seen in a snapshot, held for the PBX times, owes its end too', async (t) => {
  const pbx: { answer?: (times: Map<number, PbxCallTimes>) => void } = {}
  const { m, clock } = model({ callTimes: async () => await new Promise((resolve) => { pbx.answer = resolve }) })
  t.teardown(() => { m.stop() })
  m.apply(snapshotAfter(changesOf(DIRECT, 9), clock.now()))
  t.equal(m.size(), 0, 'a held call is not listed yet')
  t.equal(m.endsOwed(), 1, 'but owes its events')
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(pbx.answer, 'the PBX is asked for its times')
  pbx.answer?.(new Map([[9, { startedAt: T0, answeredAt: T0 + 1000 }]]))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(m.size(), 1, 'released with the PBX times')
  t.equal(m.endsOwed(), 1, 'counted once, owed until it ends')
})
