// The live view's transfer state (pbx.callsinfo.get's state, the console's "on hold" and
// "transferring"), derived from the legs the derivation classifies, step by step through blind and
// attended transfers as 3CX V20 shows them (no Held status: a consultation is its legs).
import t from 'tap'
import { CallTracker } from '../../src/calls/derivation/call-tracker.js'
import type { LiveCall } from '../../src/calls/live-call.js'
import { CALLER, changesOf } from './participant-script.js'

const N = 1265

/** The call's live view after `lines` (no grace period runs out: the call is in progress). */
function viewAfter (lines: string[]): Pick<LiveCall, 'state' | 'transfer'> {
  const tracker = new CallTracker({ callid: N, chid: `261121083716_${N}`, graceMs: 2000 })
  for (const c of changesOf(lines, N)) {
    if (c.kind === 'upsert') tracker.upsert(c.participant, c.dnType, c.at)
    else if (c.kind === 'remove') tracker.remove(c.dn, c.id, c.at)
  }
  const { state, transfer } = tracker.view()
  return { state, transfer }
}

const DIRECT_102 = [
  `+10000#p1 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=${CALLER}`,
  `+102#p2 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} originated_by_dn=ROUTER originated_by_type=Wroutepoint`,
  '+102#p2 Connected ; +10000#p1 Connected',
  'wait 5000'
]
const CONSULT_LEG = '+102#p4 Dialing party_dn=103 party_dn_type=Wextension party_caller_id=103'
const TARGET_RINGING = '+103#p5 Ringing party_dn=102 party_dn_type=Wextension party_caller_id=102'
const CONSULTING = { state: 'Transferring', transfer: { kind: 'consultation', by: '102', target: '103' } }
const TALKING = { state: 'Talking', transfer: null }

t.test('attended transfer 102 → 103: on hold while 102 consults 103, then talking', async (t) => {
  t.same(viewAfter(DIRECT_102), TALKING)
  t.same(viewAfter([...DIRECT_102, CONSULT_LEG]), CONSULTING, '102 dials 103: the caller is on hold')
  t.same(viewAfter([...DIRECT_102, CONSULT_LEG, TARGET_RINGING]), CONSULTING, '103 rings')
  t.same(viewAfter([...DIRECT_102, CONSULT_LEG, TARGET_RINGING, '+103#p5 Connected ; +102#p4 Connected']), CONSULTING, '102 and 103 talk')
  const completed = `-102#p4 ; -102#p2 ; +103#p5 Connected party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} ; +10000#p1 Connected party_dn=103`
  t.same(viewAfter([...DIRECT_102, CONSULT_LEG, TARGET_RINGING, '+103#p5 Connected ; +102#p4 Connected', 'wait 300', completed]), TALKING,
    'the transfer is over: 103 talks to the caller (was "Transferring" for the rest of the call)')
})

t.test('attended transfer nobody answers: talking again once the consultation ends', async (t) => {
  t.same(viewAfter([...DIRECT_102, CONSULT_LEG, TARGET_RINGING, 'wait 3000', '-103#p5 ; -102#p4']), TALKING)
})

t.test('a consultation seen only from its target (its consultation leg never fetched)', async (t) => {
  t.same(viewAfter([...DIRECT_102, '+103#p5 Connected party_dn=102 party_dn_type=Wextension party_caller_id=102']), CONSULTING)
  t.same(viewAfter([...DIRECT_102, TARGET_RINGING, CONSULT_LEG]), CONSULTING, 'the target fetched before the consultation leg')
})

t.test('blind transfer 102 → 103: transferring while 103 rings, then talking', async (t) => {
  const blind = `-102#p2 ; +103#p3 Ringing party_dn=10000 party_dn_type=Wexternalline party_caller_id=${CALLER} referred_by_dn=102 referred_by_type=Wextension ; +10000#p1 Connected party_dn=103`
  t.same(viewAfter([...DIRECT_102, blind]), { state: 'Transferring', transfer: { kind: 'blind', by: '102', target: '103' } })
  t.same(viewAfter([...DIRECT_102, blind, '+103#p3 Connected']), TALKING)
})
