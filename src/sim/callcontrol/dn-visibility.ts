// Which DNs an API client sees through Call Control (its own route point plus the monitored DNs),
// and the DNInfo/DNDevice shapes the REST side serves for them.
import type { DNDevice, DNInfo } from '../../pbx/callcontrol-types.js'
import type { CallEngine } from '../engine/call-engine.js'
import { deviceIdOf } from '../engine/party.js'
import { allDns, findDn, findUser, type DnEntry } from '../engine/dn-lookup.js'
import type { SimApiClient, SimDirectory, SimDnKind } from '../sim-types.js'

const USER_AGENT = 'Yealink SIP-T46U 66.86.0.15'

export function canSee (client: SimApiClient, dn: string): boolean {
  return dn === client.clientId || client.monitored === 'all' || client.monitored.includes(dn)
}

/** The DNs the client sees; other clients' route points are never visible. */
export function visibleDns (dir: SimDirectory, client: SimApiClient): DnEntry[] {
  return allDns(dir).filter((d) => (d.kind !== 'routepoint' || d.dn === client.clientId) && canSee(client, d.dn))
}

/** What the PBX itself plays for DNs that place calls without a phone (route points, campaigns). */
const VIRTUAL_AGENTS: Partial<Record<SimDnKind, string>> = {
  routepoint: '3CX Route Point',
  queue: '3CX Queue',
  ivr: '3CX Digital Receptionist'
}

/**
 * A registered, enabled user has one phone; a route point, queue or IVR has the PBX's own device
 * (the official IVR and campaign samples call out from it); everything else has none.
 */
export function devicesOf (dir: SimDirectory, dn: string): DNDevice[] {
  const agent = VIRTUAL_AGENTS[findDn(dir, dn)?.kind ?? 'externalline']
  if (agent !== undefined) return [{ dn, device_id: deviceIdOf(dn), user_agent: agent }]
  const u = findUser(dir, dn)
  if (u === undefined || !u.IsRegistered || !u.Enabled) return []
  return [{ dn, device_id: deviceIdOf(dn), user_agent: USER_AGENT }]
}

export function dnInfo (dir: SimDirectory, engine: CallEngine, d: DnEntry): DNInfo {
  return { dn: d.dn, type: d.type, devices: devicesOf(dir, d.dn), participants: engine.participants(d.dn) }
}
