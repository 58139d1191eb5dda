// What a participant is to its call (3cx-v20.md §7): the trunk, the caller's own leg, a consultation
// call, a router or queue, a callee; and what the first legs say of the call (its direction, the
// customer, the first destination). Functions of the tracker's state.
import type { CallControlDnType, CallParticipant, ParticipantStatus } from '../../pbx/callcontrol-types.js'
import { callerIdOf } from './legacy-payloads.js'
import { currentConversation, type CallTrackerState, type LegState } from './tracker-state.js'

export type LegRole = LegState['role']

/** Status order: an upsert never takes a leg back from Connected. */
export const STATUS_RANK: Record<ParticipantStatus, number> = { Dialing: 0, Ringing: 0, Connected: 1 }

/** Decides the leg's role, and records the call's direction and customer from its first legs. */
export function classifyLeg (s: CallTrackerState, p: CallParticipant, dnType: CallControlDnType): LegRole {
  const partyExternal = p.party_dn_type === 'Wexternalline'
  if (dnType === 'Wroutepoint') return 'routepoint'
  if (dnType === 'Wexternalline') {
    if (s.direction === null) {
      s.direction = p.status === 'Dialing' ? 'outbound' : 'inbound'
      s.customerDn = p.dn
      s.customerNumber = callerIdOf(p)
      if (p.party_dn_type !== 'Wexternalline') noteDestination(s, p.party_dn)
    }
    if (s.partyDid === '' && p.party_did !== '') s.partyDid = p.party_did
    return 'trunk'
  }
  // The caller's own leg: Dialing, or (first seen in a snapshot) Connected without a router or
  // queue behind it. A Dialing leg of an extension already in the call is a consultation call;
  // one of an extension not yet in it is the caller's, fetched after its callee's (fetches race).
  const ownCall = p.status === 'Dialing' || (s.direction === null && p.status === 'Connected' && p.originated_by_dn === '' && p.on_behalf_of_dn === '' && p.referred_by_dn === '')
  if (dnType === 'Wextension' && ownCall) {
    if (s.direction !== null) return isCallerLeg(s, p) ? 'origin' : 'consult'
    s.direction = partyExternal ? 'outbound' : 'internal'
    s.customerDn = partyExternal ? p.party_dn : p.dn
    s.customerNumber = partyExternal ? p.party_caller_id : p.dn
    return 'origin'
  }
  if (s.direction === null) {
    s.direction = partyExternal ? 'inbound' : 'internal'
    s.customerDn = p.party_dn
    s.customerNumber = callerIdOf(p)
    s.customerName = p.party_caller_name
  }
  if (s.partyDid === '' && p.party_did !== '') s.partyDid = p.party_did
  return dnType === 'Wextension' ? 'callee' : 'routing'
}

/** The first DN the call was sent to (the DID rules' first destination). */
export function noteDestination (s: CallTrackerState, dn: string): void {
  if (s.firstDestination === '' && dn !== '') s.firstDestination = dn
}

/** A Dialing extension leg seen after other legs: the caller's own when its extension is the one the others talk to and it has no leg yet. */
function isCallerLeg (s: CallTrackerState, p: CallParticipant): boolean {
  for (const l of s.legs) if (l.role === 'origin' || l.p.dn === p.dn) return false
  return s.direction === 'internal' ? p.dn === s.customerDn : s.direction === 'outbound'
}

/**
 * The leg's other party is an extension of this call consulting it: one with a consultation leg
 * (Dialing inside the call), or the extension talking to the customer (its consultation leg not
 * fetched yet, or never: it may be gone before its fetch).
 */
export function isConsultParty (s: CallTrackerState, p: CallParticipant): boolean {
  if (p.party_dn_type !== 'Wextension' || p.party_dn === s.customerDn) return false
  for (const l of s.legs) if (l.role === 'consult' && l.p.dn === p.party_dn) return true
  const conv = currentConversation(s)
  return conv !== null && conv.endedAt === null && conv.user === p.party_dn
}

/**
 * An extension that starts talking to the customer after another one did, neither referred (blind
 * transfer) nor routed (router, queue, ring group): it can only have been reached through an attended
 * transfer whose consultation the gateway did not see (its legs went before they were fetched, or
 * during a gap). 3CX's call log shows the consultation later; the leg itself is all there is now.
 */
export function unseenConsultation (s: CallTrackerState, leg: LegState): boolean {
  const p = leg.p
  if (p.on_behalf_of_dn !== '' || p.originated_by_type === 'Wroutepoint') return false
  return s.talks.some((c) => c.user !== p.dn)
}

/** Talking to the party the call is about: the external side, or the calling extension. */
export function talksToCustomer (s: CallTrackerState, leg: LegState): boolean {
  if (!answerLeg(s, leg)) return false
  if (s.direction === 'internal') return leg.p.party_dn === s.customerDn
  return leg.p.party_dn_type === 'Wexternalline' || (s.customerDn !== '' && leg.p.party_dn === s.customerDn)
}

/** A leg whose Connected may be the call's answer: a callee's, or the caller's own on an outbound call (the remote end answered). */
export function answerLeg (s: CallTrackerState, leg: LegState): boolean {
  return leg.role === 'callee' || (leg.role === 'origin' && s.direction === 'outbound')
}

/** Whether two sightings of a leg show the same other party (a repeated upsert changes nothing). */
export function sameParty (a: CallParticipant, b: CallParticipant): boolean {
  return a.party_dn === b.party_dn && a.party_caller_id === b.party_caller_id && a.party_dn_type === b.party_dn_type
}

/**
 * A leg a snapshot shows for a call first seen there that is already answered or came by a blind
 * transfer: what came before (a conversation, the transfer) happened unseen, in a gap of the feed,
 * and is the PBX's call record's to tell at the call's end.
 */
export function showsCallPastItsStart (p: CallParticipant): boolean {
  return p.status === 'Connected' || p.referred_by_dn !== ''
}
