// The directory entity sets (Users, Queues, RingGroups, …) as XAPI serves them: rows are the
// simulator's PascalCase directory objects, with navigation properties present in full (the query
// layer drops them unless $expand asks). Internal fields (SimGroup.MemberNumbers) never leave here.
import type { SimDirectory } from '../sim-types.js'
import type { Row } from './odata-filter.js'
import type { EntityShape } from './odata-query.js'

export interface EntitySet {
  shape: EntityShape
  rows: (directory: SimDirectory) => Row[]
  /** Supports `Set(Number='…')` (20.0.8+). */
  alternateKeyNumber: boolean
}

function entitySet (typeName: string, rows: (d: SimDirectory) => object[], alternateKeyNumber: boolean, navigation?: Record<string, string>): EntitySet {
  const nav = navigation === undefined ? undefined : Object.fromEntries(Object.entries(navigation).map(([name, type]) => [name, { typeName: type }]))
  return { shape: { typeName, navigation: nav }, rows: rows as (d: SimDirectory) => Row[], alternateKeyNumber }
}

export const ENTITY_SETS: Readonly<Record<string, EntitySet>> = {
  Users: entitySet('Pbx.User', (d) => d.users, true, { Groups: 'Pbx.UserGroup', ForwardingProfiles: 'Pbx.ForwardingProfile' }),
  Queues: entitySet('Pbx.Queue', (d) => d.queues, true, { Agents: 'Pbx.QueueAgent' }),
  RingGroups: entitySet('Pbx.RingGroup', (d) => d.ringGroups, true, { Members: 'Pbx.RingGroupMember' }),
  Receptionists: entitySet('Pbx.Receptionist', (d) => d.receptionists, true, { Forwards: 'Pbx.ReceptionistForward' }),
  Trunks: entitySet('Pbx.Trunk', (d) => d.trunks, true),
  DidNumbers: entitySet('Pbx.DidNumber', (d) => d.didNumbers, false),
  InboundRules: entitySet('Pbx.InboundRule', (d) => d.inboundRules, false, { TrunkDN: 'Pbx.Peer' }),
  Groups: entitySet('Pbx.Group', groupRows, false, { Members: 'Pbx.UserGroup' })
}

/**
 * Pbx.Group rows. As a department's `Members`, a Pbx.UserGroup names the member (Number = extension,
 * Name = its display name); in `User.Groups` the same type names the group instead (seed data).
 */
export function groupRows (d: SimDirectory): Row[] {
  return d.groups.map(({ MemberNumbers, ...group }) => ({
    ...group,
    Members: d.users.flatMap((u) => u.Groups
      .filter((g) => g.GroupId === group.Id && MemberNumbers.includes(u.Number))
      .map((g) => ({ ...g, Name: u.DisplayName, Number: u.Number, MemberName: u.DisplayName, Tags: [] })))
  }))
}

/** The single Pbx.SystemStatus object. */
export function systemStatus (d: SimDirectory, callsActive: number): Row {
  const registered = d.users.filter((u) => u.IsRegistered).length
  return {
    Id: 1,
    Version: d.system.Version,
    FQDN: d.system.FQDN,
    ProductCode: d.system.ProductCode,
    LicenseActive: d.system.LicenseActive,
    LicenseKey: d.system.LicenseKey,
    Activated: d.system.LicenseActive,
    ExpirationDate: null,
    MaxSimCalls: d.system.MaxSimCalls,
    CallsActive: callsActive,
    ExtensionsRegistered: registered,
    ExtensionsTotal: d.users.length,
    UserExtensions: d.users.length,
    MaxUserExtensions: 1000,
    TrunksRegistered: d.trunks.filter((t) => t.IsOnline).length,
    TrunksTotal: d.trunks.length,
    RecordingUsedSpace: 0,
    RecordingQuota: 0,
    RecordingQuotaReached: false,
    RecordingStopped: false,
    HasNotRunningServices: false,
    OS: null
  }
}
