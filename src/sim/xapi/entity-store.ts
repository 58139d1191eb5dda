// The records behind every XAPI entity set and singleton the generic XAPI serves. The directory's
// own sets (Users, Queues, …) are the directory arrays themselves, so the call engine sees what a
// client creates; every other set starts with the records a PBX definition gives it (or one record
// of defaults) and every singleton with a record of defaults. Records always carry every property
// of their schema type.
import { randomUUID } from 'node:crypto'
import type { SimDirectory } from '../sim-types.js'
import type { XapiEntitySet } from './xapi-model-types.js'
import type { Row } from './odata-filter.js'
import { badQuery } from './odata-error.js'
import { defaultRecord } from './schema-defaults.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import { profiles } from '../pbx-definition.js'
import { servicePrincipalRows, syncServicePrincipals } from './service-principals.js'

/** Sets whose first records and some properties come from the simulator's own state, not defaults. */
const LIVE_SETS: Readonly<Record<string, { seed: (d: SimDirectory) => Row[], sync: (d: SimDirectory, rows: Row[]) => void }>> = {
  ServicePrincipals: { seed: servicePrincipalRows, sync: syncServicePrincipals }
}

/** The directory arrays that are XAPI entity sets (rows are the live directory objects). */
export const DIRECTORY_SETS: Readonly<Record<string, (d: SimDirectory) => Row[]>> = {
  Users: (d) => d.users as unknown as Row[],
  Queues: (d) => d.queues as unknown as Row[],
  RingGroups: (d) => d.ringGroups as unknown as Row[],
  Receptionists: (d) => d.receptionists as unknown as Row[],
  Trunks: (d) => d.trunks as unknown as Row[],
  InboundRules: (d) => d.inboundRules as unknown as Row[],
  Groups: (d) => d.groups as unknown as Row[]
}

/** Every number a DN of the directory uses (extensions, queues, ring groups, IVRs, trunks). */
export function usedNumbers (d: SimDirectory): Set<string> {
  return new Set([...d.users, ...d.queues, ...d.ringGroups, ...d.receptionists, ...d.trunks].map((x) => x.Number))
}

/** The first free DN number from `from` up, as 3CX's GetFirstAvailable…Number functions answer. */
export function firstFreeNumber (d: SimDirectory, from: number): string {
  const used = usedNumbers(d)
  let n = from
  while (used.has(String(n))) n++
  return String(n)
}

/** What 3CX adds to a new directory object beyond the schema's defaults (the simulator needs it too). */
const DIRECTORY_DEFAULTS: Readonly<Record<string, (d: SimDirectory, id: number) => Row>> = {
  Users: (d, id) => ({
    Number: firstFreeNumber(d, 100),
    IsRegistered: false,
    Enabled: true,
    CurrentProfileName: 'Available',
    QueueStatus: 'LoggedOut',
    PrimaryGroupId: d.groups.find((g) => g.IsDefault)?.Id ?? 1,
    Tags: [],
    Groups: [],
    ForwardingProfiles: profiles(id)
  }),
  Queues: (d) => ({ Number: firstFreeNumber(d, 800), IsRegistered: true, PollingStrategy: 'RingAll', RingTimeout: 20, MasterTimeout: 60, MaxCallersInQueue: 10, SLATime: 20, Recording: 'Disabled', Agents: [] }),
  RingGroups: (d) => ({ Number: firstFreeNumber(d, 700), IsRegistered: true, RingStrategy: 'RingAll', RingTime: 20, Members: [] }),
  Receptionists: (d) => ({ Number: firstFreeNumber(d, 900), IsRegistered: true, IVRType: 'Default', Timeout: 10, Forwards: [] }),
  Trunks: (d) => ({ Number: firstFreeNumber(d, 10000), IsOnline: false, DidNumbers: [] }),
  Groups: (d) => ({ Number: `GRP${String(d.groups.length).padStart(4, '0')}`, IsDefault: false, HasMembers: false, MemberNumbers: [] })
}

/** A fresh key: the next integer, a new GUID for GUID keys; null where the client must name it. */
function newKey (set: XapiEntitySet, rows: readonly Row[]): number | string | null {
  if (set.keyType === 'integer') return Math.max(0, ...rows.map((r) => Number(r[set.key]) || 0)) + 1
  const spec = XAPI_MODEL.types[set.type]?.properties[set.key]
  if (spec?.t === 'string' && spec.f === 'uuid') return rows.length === 0 ? '00000000-0000-0000-0000-000000000001' : randomUUID()
  return rows.length === 0 ? '1' : null
}

export interface StoreSnapshot {
  sets: Record<string, Row[]>
  singletons: Record<string, Row>
}

export class EntityStore {
  private readonly sets = new Map<string, Row[]>()
  private readonly singles = new Map<string, Row>()

  constructor (private readonly directory: () => SimDirectory, initial: Partial<StoreSnapshot> = {}) {
    for (const [name, rows] of Object.entries(initial.sets ?? {})) this.sets.set(name, rows.map((r) => this.complete(name, r)))
    for (const [name, row] of Object.entries(initial.singletons ?? {})) this.singles.set(name, { ...defaultRecord(XAPI_MODEL.singletons[name]?.type ?? ''), ...row })
  }

  private complete (setName: string, row: Row): Row {
    return { ...defaultRecord(XAPI_MODEL.entitySets[setName]?.type ?? ''), ...row }
  }

  /** The rows of an entity set (the live array: changes to it are changes to the set). */
  rows (setName: string): Row[] {
    const fromDirectory = DIRECTORY_SETS[setName]
    if (fromDirectory !== undefined) return fromDirectory(this.directory())
    const live = LIVE_SETS[setName]
    let rows = this.sets.get(setName)
    if (rows === undefined) {
      const set = XAPI_MODEL.entitySets[setName]
      const seeded = live?.seed(this.directory()) ?? []
      rows = seeded.length > 0 ? seeded.map((r) => this.complete(setName, r)) : [this.complete(setName, { [set.key]: newKey(set, []) })]
      this.sets.set(setName, rows)
    }
    live?.sync(this.directory(), rows)
    return rows
  }

  singleton (name: string): Row {
    let row = this.singles.get(name)
    if (row === undefined) {
      row = defaultRecord(XAPI_MODEL.singletons[name].type)
      this.singles.set(name, row)
    }
    return row
  }

  find (setName: string, keyName: string, value: unknown): Row | undefined {
    return this.rows(setName).find((r) => r[keyName] === value)
  }

  /** Adds a record built from a checked body; the key is allocated unless the type's key is a string. */
  create (setName: string, body: Row): Row {
    const set = XAPI_MODEL.entitySets[setName]
    const rows = this.rows(setName)
    const key = typeof body[set.key] === 'string' && body[set.key] !== '' && set.keyType === 'string' ? body[set.key] : newKey(set, rows)
    if (key === null) throw badQuery(`A new ${set.type} needs its key property '${set.key}'.`)
    if (rows.some((r) => r[set.key] === key)) throw badQuery(`A ${set.type} with ${set.key} '${String(key)}' already exists.`)
    const extra = DIRECTORY_DEFAULTS[setName]?.(this.directory(), key as number) ?? {}
    if (typeof body.Number === 'string' && usedNumbers(this.directory()).has(body.Number) && DIRECTORY_DEFAULTS[setName] !== undefined) {
      throw badQuery(`The number ${body.Number} is already in use.`)
    }
    const row = { ...this.complete(setName, {}), ...extra, ...body, [set.key]: key }
    // 3CX fills a new user's display name from the first and last name.
    if (setName === 'Users' && (row.DisplayName ?? '') === '') row.DisplayName = `${String(row.FirstName ?? '')} ${String(row.LastName ?? '')}`.trim()
    rows.push(row)
    return row
  }

  remove (setName: string, row: Row): void {
    const rows = this.rows(setName)
    rows.splice(rows.indexOf(row), 1)
  }

  /** The sets and singletons that are not directory arrays, for --state. */
  snapshot (): StoreSnapshot {
    return { sets: Object.fromEntries(this.sets), singletons: Object.fromEntries(this.singles) }
  }
}
