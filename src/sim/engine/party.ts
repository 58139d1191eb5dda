// How a leg looks to the other legs of its call: the party_* fields of a Call Control participant
// and the party of a history segment. Pure.
import type { CallControlDnType, CallParticipant } from '../../pbx/callcontrol-types.js'
import type { SimDirectory, SimDnKind, SimParty } from '../sim-types.js'
import { findUser } from './dn-lookup.js'

/** One side of a leg: how it looks to the others (party_* fields), and what history shows for it. */
export interface Party {
  dn: string
  kind: SimDnKind
  type: CallControlDnType
  /** Caller number as others see it: the external number for trunk legs, else the DN. */
  number: string
  name: string
  pid: number
}

/** A new participant's fields before it faces anyone. */
export const EMPTY_FIELDS = {
  party_caller_name: '',
  party_dn: '',
  party_caller_id: '',
  party_did: '',
  device_id: '',
  party_dn_type: 'None',
  direct_control: false,
  originated_by_dn: '',
  originated_by_type: 'None',
  referred_by_dn: '',
  referred_by_type: 'None',
  on_behalf_of_dn: '',
  on_behalf_of_type: 'None'
} as const

/** Legs the PBX's router created (inbound routing). */
export const FROM_ROUTER = { originated_by_dn: 'ROUTER', originated_by_type: 'Wroutepoint' } as const

/** The SIP contact of an extension's (single) simulated phone. */
export function deviceIdOf (dn: string): string {
  return `sip:${dn}@127.0.0.1:${5060 + (Number(dn) % 1000)}`
}

/** party_* fields of a leg `self` facing `other`. Trunk legs always show the external number. */
export function facingFields (self: Party, other: Party): Pick<CallParticipant, 'party_dn' | 'party_dn_type' | 'party_caller_id' | 'party_caller_name'> {
  if (self.kind === 'externalline') {
    return { party_dn: other.dn, party_dn_type: other.type, party_caller_id: self.number, party_caller_name: '' }
  }
  return {
    party_dn: other.dn,
    party_dn_type: other.type,
    party_caller_id: other.number,
    party_caller_name: other.kind === 'extension' ? other.name : ''
  }
}

export function simParty (p: Party): SimParty {
  return { dn: p.dn, kind: p.kind, displayName: p.name, callerNumber: p.number, participantId: p.pid }
}

export function extensionParty (dir: SimDirectory, dn: string): Party {
  const u = findUser(dir, dn)
  return { dn, kind: 'extension', type: 'Wextension', number: dn, name: u?.DisplayName ?? dn, pid: 0 }
}
