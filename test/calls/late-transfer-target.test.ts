// An attended transfer whose completion reaches the gateway in pieces: the transferor's legs go,
// and the consultation target turning to the caller is known only after the grace period (its fetch
// slow, the gateway starved of CPU). Fault suite "20% XAPI errors and 200 ms latency": 102 was
// announced transfer=false (final) and 103's events then came after the call's final event.
import t from 'tap'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import { CALLER, playInto } from './participant-script.js'

const N = 1123

function derive (lines: string[]): CallEvent[] {
  return playInto(new CallTracker({ callid: N, chid: `261121083716_${N}`, graceMs: 300 }), lines, N)
}

/** 102 talks to the caller, consults 103 (answered), then leaves: the transfer completes, or not. */
const CONSULTED_AND_LEFT = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
  '+102#p2 Connected ; +10000#p1 Connected',
  'wait 5000',
  '+102#p4 Dialing party_dn=103 party_dn_type=Wextension party_caller_id=103',
  '+103#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102',
  '+103#p5 Connected ; +102#p4 Connected',
  'wait 300',
  '-102#p4 ; -102#p2',
  'wait 1000'
]

const brief = (e: CallEvent): string => {
  const p = e.payload as WebhookPayload & Record<string, unknown>
  return `${String(p.event)} ${String(p.user)}${p.transfer === undefined ? '' : ` transfer=${String(p.transfer)}`}${p.trtype === undefined ? '' : ` ${String(p.trtype)}`}`
}

t.test('the transferor leaves; its consultation target turns to the caller after the grace period', async (t) => {
  const events = derive([
    ...CONSULTED_AND_LEFT,
    `+103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} ; +10000#p1 Connected party_dn=103`,
    'wait 4000',
    '-103#p5 ; -10000#p1'
  ])
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), [
    'hangupincoming 102 NotDef',
    'incoming 102 transfer=true',
    'hangupincoming 103 Accomp',
    'incoming 103 transfer=false'
  ])
})

t.test('the consultation target goes instead: the conversation ends as final, when 102 left', async (t) => {
  const events = derive([
    ...CONSULTED_AND_LEFT,
    '-103#p5',
    'wait 1000',
    '-10000#p1'
  ])
  t.same(events.filter((e) => e.type !== 'ringing').map(brief), ['hangupincoming 102 NotDef', 'incoming 102 transfer=false'])
  t.equal((events.at(-1)?.payload as unknown as { duration: number }).duration, 5, 'talk time up to when 102 left')
})
