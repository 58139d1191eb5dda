// A transferor's hang-up that arrived while a catch-up snapshot was being read (data-dir.test.ts under
// load, 2026-12-07: 102 talked 0.8 s and blind-transferred; the snapshot showed its leg gone and the
// target talking, and 102's call-ended said duration 4, timing=approximate). Its remove event dates it:
// the end was seen, only handled after the snapshot. Model on fake time.
import t from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import { CALLER, T0, participant } from './participant-script.js'
import { FakeClock } from '../fake-clock.js'

const CALLID = 1008
const brief = (e: CallEvent): string => {
  const p = e.payload as unknown as Record<string, unknown>
  return [p.event, p.user, p.trtype, p.finishtype, p.transfer, p.duration, p.timing].filter((x) => x !== undefined).join(' ')
}

t.test('a leg gone from a catch-up snapshot whose remove came meanwhile ends when it went', async (t) => {
  const clock = new FakeClock(T0)
  const events: CallEvent[] = []
  const m = new CallModel({
    timeZone: 'UTC', graceMs: 300, internalCalls: true, clock,
    callTimes: async () => new Map([[CALLID, { startedAt: T0, answeredAt: T0 + 500 }]]),
    onEvent: (e) => { events.push(e) }
  })
  t.teardown(() => { m.stop() })
  const trunk = participant('10000', 1, CALLID, { status: 'Connected', party_dn: '102', party_dn_type: 'Wextension', party_caller_id: CALLER })
  const agent = participant('102', 2, CALLID, { status: 'Connected', party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: CALLER })
  m.apply({ kind: 'upsert', participant: { ...trunk, status: 'Ringing' }, dnType: 'Wexternalline', at: T0 })
  m.apply({ kind: 'upsert', participant: { ...agent, status: 'Ringing' }, dnType: 'Wextension', at: T0 })
  m.apply({ kind: 'upsert', participant: agent, dnType: 'Wextension', at: T0 + 500 })
  await clock.advance(3500)
  // 102 blind-transferred to 109 at T0 + 1300, 109 answered; the snapshot shows only the result.
  const target = participant('109', 3, CALLID, { status: 'Connected', party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: CALLER, referred_by_dn: '102', referred_by_type: 'Wextension' })
  m.apply({
    kind: 'resync',
    at: clock.now(),
    dns: [{ dn: '10000', type: 'Wexternalline', devices: [], participants: [{ ...trunk, party_dn: '109' }] }, { dn: '109', type: 'Wextension', devices: [], participants: [target] }],
    removedAt: { '102/2': T0 + 1300 }
  })
  await clock.advance(500)
  t.same(events.map(brief), ['ringing 102', 'hangupincoming 102 NotDef', 'incoming 102 Ok true 1', 'hangupincoming 109 Blind approximate'], '102 talked 0.8 s, as seen')
})
