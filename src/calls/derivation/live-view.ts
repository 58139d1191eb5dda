// The call as the legacy live routes show it (pbx.ac.get and friends, legacy-api.md): its legs,
// direction and state, derived from the tracker's state.
import type { CallControlDnType } from '../../pbx/callcontrol-types.js'
import type { CallDirection, CallState, LiveCall, LiveLeg } from '../live-call.js'
import { legacyCallId } from '../legacy-call-id.js'
import { didName } from './legacy-payloads.js'
import { currentConversation, type CallTrackerState, type Derivation } from './tracker-state.js'

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
  return {
    callid,
    chid: d.chid,
    legacyId: legacyCallId(d.chid, s.link),
    direction: liveDirection(s),
    did: s.direction === 'inbound' ? didName(d) : '',
    state: callState(s),
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

function callState (s: CallTrackerState): CallState {
  const conv = currentConversation(s)
  const transferring = s.transferFrom !== null || s.legs.some((l) => l.consultTarget || l.role === 'consult')
  if (conv !== null && conv.endedAt === null) return transferring ? 'Transferring' : 'Talking'
  if (transferring) return 'Transferring'
  if (s.answeredAt !== null) return 'Rerouting'
  if (s.legs.some((l) => l.p.status === 'Ringing' || l.role === 'routing')) return 'Routing'
  return s.legs.length > 0 ? 'Initiating' : 'Unknown'
}
