// A call first seen in a snapshot already blind-transferred (tenant-faults.test.ts after the database
// restart: the replica holding 20 tenants fell behind, a catch-up snapshot replaced the backlog, and
// the call 102 had answered and passed to 114 meanwhile got only 114's events). What came before the
// snapshot is the PBX's record's to tell: the call's end is reconciled with it, so 102's call-started
// and call-ended go out too, before the final end. Model on fake time.
import t from 'tap'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import { CALLER, T0, changesOf } from './participant-script.js'
import { snapshotAfter } from './snapshot-of.js'
import { FakeClock } from '../fake-clock.js'

const CALLID = 1402
const brief = (e: CallEvent): string => {
  const p = e.payload as unknown as Record<string, unknown>
  return [p.event, p.user, p.trtype, p.finishtype, p.transfer].filter((x) => x !== undefined).join(' ')
}

t.test('a call first seen blind-transferred and answered: the transferor\'s conversation comes from the call log at the end', async (t) => {
  const clock = new FakeClock(T0 + 8000)
  const lookups: number[] = []
  const record: PbxCallRecord = {
    callid: CALLID,
    conversations: [
      { user: '102', answeredAt: T0 + 1000, endedAt: T0 + 4000, talkSeconds: 3, trtype: 'NotDef' },
      { user: '114', answeredAt: T0 + 6000, endedAt: T0 + 9000, talkSeconds: 3, trtype: 'Blind' }
    ],
    waitedIn: null,
    endedAt: T0 + 9000
  }
  const events: CallEvent[] = []
  const m = new CallModel({
    timeZone: 'UTC',
    graceMs: 300,
    internalCalls: true,
    clock,
    callTimes: async () => new Map([[CALLID, { startedAt: T0, answeredAt: T0 + 1000 }]]),
    callRecords: async (q) => { lookups.push(q.callid); return record },
    onEvent: (e) => { events.push(e) }
  })
  t.teardown(() => { m.stop() })
  // Unseen: 102 answered, blind-transferred the call to 114, who answered. The snapshot shows 114 only.
  const unseen = changesOf([
    `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
    `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER}`,
    '+102#p2 Connected ; +10000#p1 Connected', 'wait 3000',
    '-102#p2', `+114#p3 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension`,
    '+10000#p1 Connected party_dn=114'
  ], CALLID)
  m.apply(snapshotAfter(unseen, clock.now()))
  await clock.advance(50)
  t.same(events.map(brief), ['hangupincoming 114 Blind'], 'what the snapshot shows')

  // 114 hangs up; the removes are seen.
  await clock.advance(1000)
  m.apply({ kind: 'remove', dn: '114', id: 3, at: clock.now() })
  m.apply({ kind: 'remove', dn: '10000', id: 1, at: clock.now() })
  await clock.advance(1000)
  t.same(lookups, [CALLID], 'its end is looked up in the call log')
  t.same(events.map(brief), [
    'hangupincoming 114 Blind',
    'hangupincoming 102 NotDef',
    'incoming 102 Ok true',
    'incoming 114 Ok false'
  ], '102\'s conversation announced from the record, 114\'s end last')
  const stamps = events.map((e) => Date.parse(String(e.payload.timestamp)))
  t.same(stamps, [...stamps].sort((a, b) => a - b), 'timestamps never go back')
  t.equal(m.endsOwed(), 0)
})
