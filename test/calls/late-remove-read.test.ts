// A hang-up read behind a backlog of reads (a loaded gateway): the leg ended when its remove event
// came, so that is its talk time and timestamp; the grace period counts from when it was read, so the
// reads announced with it (a blind transfer's target) are in before the call's end is decided.
// tenant-faults, dated when read: 5 s of talk reported for 2.4 s, the reads 1.4 s behind.
import t from 'tap'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import { CALLER, T0, dnTypeOf, participant, playInto } from './participant-script.js'

const N = 1001
const tracker = (): CallTracker => new CallTracker({ callid: N, chid: `261207125319_${N}`, graceMs: 300 })
const TALKING = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
  '+102#p2 Connected ; +10000#p1 Connected'
]
const payload = (e: CallEvent | undefined): Record<string, unknown> => (e?.payload ?? {}) as WebhookPayload & Record<string, unknown>

t.test('the talk time and timestamp end when the remove came; the grace period from when it was read', async (t) => {
  const tr = tracker()
  playInto(tr, TALKING, N)
  const answered = T0 + 30
  const hungUp = answered + 2400
  const read = hungUp + 1400
  tr.remove('102', 2, read, false, hungUp)
  tr.remove('10000', 1, read, false, hungUp)
  t.equal(tr.deadline(), read + 300, 'due 300 ms after the read, not after the event')
  t.same(tr.expire(hungUp + 300), [], 'nothing ends within the grace period of the read')
  const ended = tr.expire(read + 300)
  const incoming = payload(ended.find((e) => e.type === 'ended'))
  t.match(incoming, { event: 'incoming', user: '102', duration: 2, transfer: 'false' }, 'talk time to the hang-up itself')
  t.equal(incoming.timestamp, new Date(hungUp).toISOString())
})

t.test('a blind transfer whose target is read after the transferor\'s late remove, within its grace period', async (t) => {
  const tr = tracker()
  playInto(tr, TALKING, N)
  const transferred = T0 + 3000
  const read = transferred + 1400
  tr.remove('102', 2, read, false, transferred)
  t.equal(tr.deadline(), read + 300)
  const target = participant('111', 5, N, { party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: CALLER, referred_by_dn: '102', referred_by_type: 'Wextension' })
  const events = tr.upsert(target, dnTypeOf('111'), read + 100)
  t.match(payload(events.find((e) => e.type === 'ended')), { event: 'incoming', user: '102', transfer: 'true', timestamp: new Date(transferred).toISOString() }, 'the transferor\'s end, transferred, dated by its event')
})
