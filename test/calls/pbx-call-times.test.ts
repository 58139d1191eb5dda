// ActiveCalls rows → the times of calls first seen in progress, on the gateway's clock.
import t from 'tap'
import { callTimesOf, callTimesOfRecord } from '../../src/calls/pbx-call-times.js'

t.test('EstablishedAt and, when talking, LastChangeStatus; shifted by the PBX clock\'s offset', async (t) => {
  const local = Date.parse('2026-12-05T08:01:50Z')
  const times = callTimesOf([
    { Id: 1141, Status: 'Talking', EstablishedAt: '2026-12-05T08:01:42.1234567+00:00', LastChangeStatus: '2026-12-05T08:01:43.5000000+00:00', ServerNow: '2026-12-05T08:01:48.0000000+00:00' },
    { Id: 1142, Status: 'Ringing', EstablishedAt: '2026-12-05T08:01:49Z', LastChangeStatus: '2026-12-05T08:01:49Z', ServerNow: '2026-12-05T08:01:48Z' },
    { Id: null, EstablishedAt: '2026-12-05T08:01:49Z' },
    { Id: 1143, EstablishedAt: 'not a time' }
  ], local)
  t.same([...times.keys()], [1141, 1142])
  t.same(times.get(1141), { startedAt: Date.parse('2026-12-05T08:01:44.123Z'), answeredAt: Date.parse('2026-12-05T08:01:45.5Z') }, 'the PBX clock is 2 s behind')
  t.same(times.get(1142), { startedAt: Date.parse('2026-12-05T08:01:51Z'), answeredAt: null }, 'not answered yet')
})

t.test('a call that is over: its call-log record gives the start and the first answer', async (t) => {
  const origin = { direction: 'inbound' as const, customerDn: '10000', customerNumber: '+1555', customerName: '', firstDestination: '800', firstDestinationType: 'Wqueue' as const, fromDn: '10000', startedAt: 1000 }
  const conv = (user: string, answeredAt: number, returned?: boolean) => ({ user, answeredAt, endedAt: answeredAt + 1000, talkSeconds: 1, trtype: 'NotDef' as const, ...(returned === true ? { returned } : {}) })
  t.same(callTimesOfRecord({ callid: 1, origin, conversations: [conv('101', 3000), conv('103', 6000)], waitedIn: null, endedAt: 9000 }), { startedAt: 1000, answeredAt: 3000 })
  t.same(callTimesOfRecord({ callid: 1, origin, conversations: [], waitedIn: null, endedAt: 9000 }), { startedAt: 1000, answeredAt: null }, 'never answered')
  t.equal(callTimesOfRecord({ callid: 1, conversations: [conv('101', 3000)], waitedIn: null, endedAt: 9000 }), null, 'no origin: nothing to date it by')
})
