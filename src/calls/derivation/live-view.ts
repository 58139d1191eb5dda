// The call as the legacy live routes show it (pbx.ac.get and friends, legacy-api.md): its legs,
// direction and state, derived from the tracker's state.
import type { CallControlDnType } from '../../pbx/callcontrol-types.js'
import type { CallDirection, CallState, LiveCall, LiveLeg, LiveTransfer } from '../live-call.js'
import { legacyCallId } from '../legacy-call-id.js'
import { didName } from './legacy-payloads.js'
import { currentConversation, legOf, transferredConversation, type CallTrackerState, type Derivation } from './tracker-state.js'

export function liveCallOf (d: Derivation, callid: number): LiveCall {
  const s = d.s
  const legs: LiveLeg[] = s.legs.map((l) => ({
    dn: l.p.dn,
    dnType: legacyDnType(l.dnType),
    participantId: l.p.id,
    status: l.p.status,
    externalParty: l.p.party_caller_id !== '' ? l.p.party_caller_id : l.p.party_dn,
    callerName: l.p.party_caller_name,
    firstSeenAt: l.firstSeenAt,
    connectedAt: l.connectedAt
  }))
  const transfer = transferOf(s)
  return {
    callid,
    chid: d.chid,
    legacyId: legacyCallId(d.chid, s.link),
    direction: liveDirection(s),
    did: s.direction === 'inbound' ? didName(d) : '',
    state: callState(s, transfer),
    transfer,
    startedAt: s.startedAt,
    answeredAt: s.answeredAt,
    legs
  }
}

function legacyDnType (t: CallControlDnType): string {
  return t.startsWith('W') ? t.slice(1).toLowerCase() : t.toLowerCase()
}

function liveDirection (s: CallTrackerState): CallDirection {
  const distributed = s.legs.some((l) => l.role === 'callee' || (l.role === 'origin' && s.direction === 'outbound'))
  if (s.direction === 'outbound') return 'Outbound'
  if (s.direction === 'internal') return distributed ? 'Internal' : 'FromInternal'
  return distributed ? 'Inbound' : 'FromExternal'
}

/**
 * The transfer going on, from the legs the derivation classified: an attended transfer's
 * consultation (the transferor's consultation leg, and the target until it turns to the customer),
 * else a blind transfer whose target has not answered. Once the target talks to the customer the
 * transfer is over, although its leg stays marked as the consultation's target.
 */
export function transferOf (s: CallTrackerState): LiveTransfer | null {
  const consult = s.legs.find((l) => l.role === 'consult')
  const target = s.legs.find((l) => l.consultTarget && !l.answered)
  if (consult !== undefined || target !== undefined) {
    return { kind: 'consultation', by: consult?.p.dn ?? target?.p.party_dn ?? '', target: target?.p.dn ?? consult?.p.party_dn ?? '' }
  }
  if (s.transferFrom === null) return null
  const blindTarget = legOf(s, s.transferFrom.targetKey)
  return { kind: 'blind', by: transferredConversation(s)?.user ?? blindTarget?.referredBy ?? '', target: blindTarget?.p.dn ?? '' }
}

function callState (s: CallTrackerState, transfer: LiveTransfer | null): CallState {
  const conv = currentConversation(s)
  if (conv !== null && conv.endedAt === null) return transfer !== null ? 'Transferring' : 'Talking'
  if (transfer !== null) return 'Transferring'
  if (s.answeredAt !== null) return 'Rerouting'
  if (s.legs.some((l) => l.p.status === 'Ringing' || l.role === 'routing')) return 'Routing'
  return s.legs.length > 0 ? 'Initiating' : 'Unknown'
}
