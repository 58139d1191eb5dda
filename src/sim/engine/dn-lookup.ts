// Pure look-ups on the simulator's directory: what a number is, whether an extension can be rung,
// and why not. The engine and the Call Control plugin read the directory afresh on every call
// (a reset replaces it), so nothing here caches.
import type { CallControlDnType } from '../../pbx/callcontrol-types.js'
import type { SimDirectory, SimDnKind, SimInboundRule, SimUser } from '../sim-types.js'

export const TRUNK_TYPE: CallControlDnType = 'Wexternalline'

/** Profiles in which a user takes calls (the two "available" ones of V20). */
const AVAILABLE_PROFILES = new Set(['Available', 'Available2'])

export interface DnEntry {
  dn: string
  kind: SimDnKind
  type: CallControlDnType
  name: string
}

const KIND_TO_TYPE: Record<SimDnKind, CallControlDnType> = {
  extension: 'Wextension',
  queue: 'Wqueue',
  ringgroup: 'Wringgroup',
  ivr: 'Wivr',
  externalline: 'Wexternalline',
  routepoint: 'Wroutepoint'
}

export function dnType (kind: SimDnKind): CallControlDnType {
  return KIND_TO_TYPE[kind]
}

export function findUser (dir: SimDirectory, dn: string): SimUser | undefined {
  return dir.users.find((u) => u.Number === dn)
}

/** Every DN the PBX knows, in a stable order (users, queues, ring groups, IVRs, trunks, route points). */
export function allDns (dir: SimDirectory): DnEntry[] {
  const entry = (dn: string, kind: SimDnKind, name: string): DnEntry => ({ dn, kind, type: dnType(kind), name })
  return [
    ...dir.users.map((u) => entry(u.Number, 'extension', u.DisplayName)),
    ...dir.queues.map((q) => entry(q.Number, 'queue', q.Name)),
    ...dir.ringGroups.map((g) => entry(g.Number, 'ringgroup', g.Name)),
    ...dir.receptionists.map((r) => entry(r.Number, 'ivr', r.Name)),
    ...dir.trunks.map((t) => entry(t.Number, 'externalline', t.Gateway.Name)),
    ...dir.apiClients.map((c) => entry(c.clientId, 'routepoint', `API client ${c.clientId}`))
  ]
}

export function findDn (dir: SimDirectory, dn: string): DnEntry | undefined {
  return allDns(dir).find((d) => d.dn === dn)
}

export function trunkDn (dir: SimDirectory): string {
  return dir.trunks[0]?.Number ?? '10000'
}

export function inboundRule (dir: SimDirectory, did: string): SimInboundRule | undefined {
  return dir.inboundRules.find((r) => r.Data === did)
}

/** Why an extension cannot be rung right now, or null when it can. */
export function unreachableReason (dir: SimDirectory, dn: string): string | null {
  const u = findUser(dir, dn)
  if (u === undefined) return `${dn} is not an extension`
  if (!u.Enabled) return `extension ${dn} is disabled`
  if (!u.IsRegistered) return `extension ${dn} is not registered`
  if (!AVAILABLE_PROFILES.has(u.CurrentProfileName)) return `extension ${dn} is in profile ${u.CurrentProfileName}`
  return null
}

/** Whether the extension's current forwarding profile takes a second call (call waiting). */
export function callWaiting (dir: SimDirectory, dn: string): boolean {
  const u = findUser(dir, dn)
  return u?.ForwardingProfiles.find((p) => p.Name === u.CurrentProfileName)?.AcceptMultipleCalls === true
}

/** Internal DN kinds a busy forwarding can send a call to (Pbx.Destination To → kind). */
const BUSY_FORWARD_KINDS: Readonly<Record<string, SimDnKind>> = {
  Extension: 'extension', Queue: 'queue', RingGroup: 'ringgroup', IVR: 'ivr', RoutePoint: 'routepoint'
}

/**
 * Where the extension's current profile sends a call while it is busy: an internal DN, or null when
 * the call ends there (no busy route, VoiceMail — which the simulator does not model — or a
 * destination that is not an internal DN of the PBX).
 */
export function busyForwardDn (dir: SimDirectory, dn: string, external: boolean): string | null {
  const u = findUser(dir, dn)
  const route = u?.ForwardingProfiles.find((p) => p.Name === u.CurrentProfileName)?.AvailableRoute
  if (route === undefined) return null
  const dest = external && route.BusyAllCalls !== true ? route.BusyExternal : route.BusyInternal
  const kind = BUSY_FORWARD_KINDS[dest?.To ?? '']
  const entry = typeof dest?.Number === 'string' ? findDn(dir, dest.Number) : undefined
  return kind !== undefined && entry?.kind === kind && entry.dn !== dn ? entry.dn : null
}

/** Why a queue agent is not rung, or null when they are. */
export function agentUnreachableReason (dir: SimDirectory, queueDn: string, agentDn: string): string | null {
  const u = findUser(dir, agentDn)
  if (u !== undefined && u.QueueStatus === 'LoggedOut') return `agent ${agentDn} is logged out of queue ${queueDn}`
  return unreachableReason(dir, agentDn)
}

/** The extensions a queue or ring group rings, in its order, each with why it is skipped (or null). */
export function groupMembers (dir: SimDirectory, dn: string): Array<{ dn: string, skip: string | null }> {
  const q = dir.queues.find((x) => x.Number === dn)
  if (q !== undefined) return q.Agents.map((a) => ({ dn: a.Number, skip: agentUnreachableReason(dir, dn, a.Number) }))
  const g = dir.ringGroups.find((x) => x.Number === dn)
  if (g !== undefined) return g.Members.map((m) => ({ dn: m.Number, skip: unreachableReason(dir, m.Number) }))
  return []
}

/** Looks like a phone number outside the PBX (not a known DN). */
export function isExternalNumber (dir: SimDirectory, num: string): boolean {
  return /^\+?[0-9]{5,20}$/.test(num) && findDn(dir, num) === undefined
}
