// A PBX described in a YAML file (`3cx-gateway sim --pbx FILE`, SIM_PBX): users, departments, queues,
// ring groups, IVRs, trunks, DIDs and API clients, plus records for any other XAPI entity set. Parsed
// and checked here with errors that name the file, line and field; turned into the simulator's
// directory by `definitionToDirectory`. pbx/default.yaml is the default PBX (seed.ts) as a file.
import { readFileSync } from 'node:fs'
import { checkShape, parseYamlFile, YamlSyntaxError, type Shape, type YamlFile, type YamlPath } from '../yaml-shape.js'
import type { SimApiClient, SimDestination, SimDirectory, SimForwardingProfile, SimUser } from './sim-types.js'
import type { Row } from './xapi/odata-filter.js'
import { XAPI_MODEL } from './xapi/xapi-model.generated.js'
import { checkBody } from './xapi/generic-xapi.js'

export interface PbxUser { number: string, firstName: string, lastName: string, email?: string, mobile?: string, registered?: boolean, enabled?: boolean }
export interface PbxDepartment { name: string, number: string, members: string[] }
export interface PbxQueue { number: string, name: string, strategy?: 'RingAll' | 'Hunt', ringTimeout?: number, masterTimeout?: number, agents: string[] }
export interface PbxRingGroup { number: string, name: string, strategy?: 'RingAll' | 'Hunt' | 'Paging', ringTime?: number, members: string[] }
export interface PbxIvr { number: string, name: string, prompt?: string, timeout?: number, options: Record<string, string> }
export interface PbxTrunk { number: string, name: string, host?: string, externalNumber?: string }
export interface PbxDid { number: string, name: string, to: string, trunk?: string }
export interface PbxApiClient { clientId: string, secret: string, role?: 'SystemOwner' | 'SystemAdmin', xapi?: boolean, callControl?: boolean, monitored?: 'all' | string[], department?: string }

export interface PbxDefinition {
  system?: { version?: string, fqdn?: string, maxSimCalls?: number, productCode?: string, licenseKey?: string }
  users: PbxUser[]
  departments?: PbxDepartment[]
  queues?: PbxQueue[]
  ringGroups?: PbxRingGroup[]
  ivrs?: PbxIvr[]
  trunks: PbxTrunk[]
  dids?: PbxDid[]
  apiClients: PbxApiClient[]
  /** Records of other XAPI entity sets (Contacts, OutboundRules, …), every property optional. */
  entities?: Record<string, Row[]>
}

export class PbxDefinitionError extends Error {}

/** The five V20 forwarding profiles: internal Name and display CustomName. */
export const PROFILE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Available', 'Available'],
  ['Away', 'Away'],
  ['OutOfOffice', 'Out of office'],
  ['Available2', 'Custom 1'],
  ['OutOfOffice2', 'Custom 2']
]

const SHAPES: Readonly<Record<string, Shape>> = {
  system: { version: { kind: 'string' }, fqdn: { kind: 'string' }, maxSimCalls: { kind: 'number' }, productCode: { kind: 'string' }, licenseKey: { kind: 'string' } },
  users: { number: { kind: 'string', required: true }, firstName: { kind: 'string', required: true }, lastName: { kind: 'string', required: true }, email: { kind: 'string' }, mobile: { kind: 'string' }, registered: { kind: 'boolean' }, enabled: { kind: 'boolean' } },
  departments: { name: { kind: 'string', required: true }, number: { kind: 'string', required: true }, members: { kind: 'strings', required: true } },
  queues: { number: { kind: 'string', required: true }, name: { kind: 'string', required: true }, strategy: { kind: 'string', oneOf: ['RingAll', 'Hunt'] }, ringTimeout: { kind: 'number' }, masterTimeout: { kind: 'number' }, agents: { kind: 'strings', required: true } },
  ringGroups: { number: { kind: 'string', required: true }, name: { kind: 'string', required: true }, strategy: { kind: 'string', oneOf: ['RingAll', 'Hunt', 'Paging'] }, ringTime: { kind: 'number' }, members: { kind: 'strings', required: true } },
  ivrs: { number: { kind: 'string', required: true }, name: { kind: 'string', required: true }, prompt: { kind: 'string' }, timeout: { kind: 'number' }, options: { kind: 'object', required: true } },
  trunks: { number: { kind: 'string', required: true }, name: { kind: 'string', required: true }, host: { kind: 'string' }, externalNumber: { kind: 'string' } },
  dids: { number: { kind: 'string', required: true }, name: { kind: 'string', required: true }, to: { kind: 'string', required: true }, trunk: { kind: 'string' } },
  apiClients: { clientId: { kind: 'string', required: true }, secret: { kind: 'string', required: true }, role: { kind: 'string', oneOf: ['SystemOwner', 'SystemAdmin'] }, xapi: { kind: 'boolean' }, callControl: { kind: 'boolean' }, monitored: { kind: 'list' }, department: { kind: 'string' } }
}
const LISTS = ['users', 'departments', 'queues', 'ringGroups', 'ivrs', 'trunks', 'dids', 'apiClients']
const REQUIRED_LISTS = ['users', 'trunks', 'apiClients']

/** Parses and checks a definition; `file` names it in errors (`my-pbx.yaml:12: users[3].number: …`). */
export function parsePbxDefinition (text: string, file: string): PbxDefinition {
  let parsed: YamlFile
  try {
    parsed = parseYamlFile(text, file)
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new PbxDefinitionError(err.message)
    throw err
  }
  const fail = (path: YamlPath, message: string): never => { throw new PbxDefinitionError(parsed.describe(path, message)) }
  const def = parsed.value as Record<string, unknown> | null
  if (def === null || typeof def !== 'object' || Array.isArray(def)) return fail([], 'a PBX definition is a mapping (users:, trunks:, apiClients:, …)')
  for (const key of Object.keys(def)) {
    if (!LISTS.includes(key) && key !== 'system' && key !== 'entities') fail([key], `unknown section; use one of system, ${LISTS.join(', ')}, entities`)
  }
  for (const key of REQUIRED_LISTS) if (!Array.isArray(def[key]) || (def[key] as unknown[]).length === 0) fail([], `'${key}' must list at least one entry`)
  const checkItem = (section: string, item: unknown, path: Array<string | number>): void => { checkShape(item, SHAPES[section], path, fail) }
  if (def.system !== undefined) checkItem('system', def.system, ['system'])
  for (const section of LISTS) {
    const list = def[section]
    if (list === undefined) continue
    if (!Array.isArray(list)) { fail([section], 'must be a list'); continue }
    list.forEach((item, i) => { checkItem(section, item, [section, i]) })
  }
  const result = def as unknown as PbxDefinition
  checkReferences(result, fail)
  if (result.entities !== undefined) {
    for (const [set, rows] of Object.entries(result.entities)) {
      if (XAPI_MODEL.entitySets[set] === undefined) fail(['entities', set], 'is not an XAPI entity set')
      if (!Array.isArray(rows)) fail(['entities', set], 'must be a list of records')
      rows.forEach((row, i) => {
        try {
          checkBody(XAPI_MODEL.entitySets[set].type, row)
        } catch (err) {
          fail(['entities', set, i], (err as Error).message)
        }
      })
    }
  }
  return result
}

function checkReferences (def: PbxDefinition, fail: (path: Array<string | number>, message: string) => never): void {
  const owners = new Map<string, string>()
  const claim = (number: string, path: Array<string | number>): void => {
    const owner = owners.get(number)
    if (owner !== undefined) fail(path, `number ${number} is already used by ${owner}`)
    owners.set(number, path.slice(0, 2).map(String).join(''))
  }
  const users = new Set(def.users.map((u) => u.number))
  def.users.forEach((u, i) => { claim(u.number, ['users', i, 'number']) })
  for (const [section, list] of [['queues', def.queues], ['ringGroups', def.ringGroups], ['ivrs', def.ivrs], ['trunks', def.trunks]] as const) {
    (list ?? []).forEach((item, i) => { claim(item.number, [section, i, 'number']) })
  }
  const members = (section: string, list: Array<{ agents?: string[], members?: string[] }> | undefined, field: 'agents' | 'members'): void => {
    (list ?? []).forEach((item, i) => {
      (item[field] ?? []).forEach((n, k) => { if (!users.has(n)) fail([section, i, field, k], `extension ${n} is not one of the users`) })
    })
  }
  members('queues', def.queues, 'agents')
  members('ringGroups', def.ringGroups, 'members')
  members('departments', def.departments, 'members')
  ;(def.ivrs ?? []).forEach((ivr, i) => {
    for (const [digit, target] of Object.entries(ivr.options)) {
      if (!/^[0-9*#]$/.test(digit)) fail(['ivrs', i, 'options', digit], 'an option is one key: 0-9, * or #')
      if (!owners.has(String(target))) fail(['ivrs', i, 'options', digit], `${String(target)} is not a number of this PBX`)
    }
  })
  const trunks = new Set(def.trunks.map((t) => t.number))
  ;(def.dids ?? []).forEach((did, i) => {
    // An API client's number is its route point: a DID can send calls to the application.
    if (def.apiClients.some((c) => c.clientId === did.to)) return
    const to = owners.get(did.to)
    if (to === undefined || to.startsWith('trunks')) fail(['dids', i, 'to'], `${did.to} is not an extension, queue, ring group, IVR or API client (route point) of this PBX`)
    if (did.trunk !== undefined && !trunks.has(did.trunk)) fail(['dids', i, 'trunk'], `${did.trunk} is not one of the trunks`)
  })
  const departments = (def.departments ?? [{ name: 'DEFAULT' }]).map((d) => d.name)
  def.apiClients.forEach((client, i) => {
    if (client.department !== undefined && !departments.includes(client.department)) fail(['apiClients', i, 'department'], `${client.department} is not one of the departments (${departments.join(', ')})`)
    if (Array.isArray(client.monitored)) {
      client.monitored.forEach((dn, k) => { if (!owners.has(dn)) fail(['apiClients', i, 'monitored', k], `${dn} is not a number of this PBX`) })
    }
  })
}

export function loadPbxDefinition (file: string): PbxDefinition {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new PbxDefinitionError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  return parsePbxDefinition(text, file)
}

/** A user's five forwarding profiles; ids are unique per user (`userId * 10 + n`, userId from 0). */
export function profiles (userIndex: number): SimForwardingProfile[] {
  return PROFILE_NAMES.map(([Name, CustomName], i) => ({ Id: userIndex * 10 + i + 1, Name, CustomName, AcceptMultipleCalls: false, NoAnswerTimeout: 20, OfficeHoursAutoQueueLogOut: false }))
}

/** The simulator's directory for a definition (ids follow the same scheme as seed.ts). */
export function definitionToDirectory (def: PbxDefinition): SimDirectory {
  const departments = def.departments ?? [{ name: 'DEFAULT', number: 'GRP0000', members: def.users.map((u) => u.number) }]
  const mainTrunk = def.trunks[0]
  const users: SimUser[] = def.users.map((u, i) => {
    const DisplayName = `${u.firstName} ${u.lastName}`
    return {
      Id: i + 1,
      Number: u.number,
      FirstName: u.firstName,
      LastName: u.lastName,
      DisplayName,
      EmailAddress: u.email ?? `${u.firstName.toLowerCase()}.${u.lastName.toLowerCase().replace(/[^a-z]/g, '')}@example.com`,
      Mobile: u.mobile ?? `+1555111${String(2000 + i)}`,
      OutboundCallerID: mainTrunk.externalNumber ?? '',
      Enabled: u.enabled ?? true,
      IsRegistered: u.registered ?? true,
      CurrentProfileName: 'Available',
      QueueStatus: 'LoggedIn',
      RecordCalls: false,
      RecordExternalCallsOnly: false,
      Internal: false,
      PrimaryGroupId: 1,
      Tags: [],
      Groups: departments.map((d, k) => ({ d, k })).filter(({ d }) => d.members.includes(u.number)).map(({ d, k }) => ({
        Id: 1000 + k * 100 + Number(u.number) % 100, GroupId: k + 1, Name: d.name, Number: d.number, MemberName: DisplayName, Type: 'Extension' as const, Rights: { RoleName: 'users' }
      })),
      ForwardingProfiles: profiles(i)
    }
  })
  const nameOf = (n: string): string => users.find((u) => u.Number === n)?.DisplayName ?? n
  const queues = (def.queues ?? []).map((q, i) => ({
    Id: 40 + i, Number: q.number, Name: q.name, IsRegistered: true, PollingStrategy: q.strategy ?? 'RingAll', RingTimeout: q.ringTimeout ?? 20,
    MasterTimeout: q.masterTimeout ?? 60, MaxCallersInQueue: 10, SLATime: 20, WrapUpTime: 0, Recording: 'Disabled' as const,
    Agents: q.agents.map((n, k) => ({ Id: 400 + i * 10 + k, Number: n, Name: nameOf(n), SkillGroup: '1', Tags: [] }))
  }))
  const ringGroups = (def.ringGroups ?? []).map((g, i) => ({
    Id: 30 + i, Number: g.number, Name: g.name, IsRegistered: true, RingStrategy: g.strategy ?? 'RingAll', RingTime: g.ringTime ?? 20,
    Members: g.members.map((n, k) => ({ Id: 300 + i * 10 + k, Number: n, Name: nameOf(n), Tags: [] }))
  }))
  const kindOf = (n: string): SimDestination['To'] | null =>
    users.some((u) => u.Number === n) ? 'Extension' : queues.some((q) => q.Number === n) ? 'Queue' : ringGroups.some((g) => g.Number === n) ? 'RingGroup' : (def.ivrs ?? []).some((v) => v.number === n) ? 'IVR' : null
  const receptionists = (def.ivrs ?? []).map((v, i) => ({
    Id: 20 + i, Number: v.number, Name: v.name, IsRegistered: true, IVRType: 'Default' as const, PromptFilename: v.prompt ?? 'main-menu.wav', Timeout: v.timeout ?? 10,
    Forwards: Object.entries(v.options).map(([Input, to], k) => {
      const kind = kindOf(String(to)) ?? 'Extension'
      return { Id: 200 + i * 10 + k + 1, Input, ForwardType: kind === 'IVR' ? 'IVR' : kind, ForwardDN: String(to), PeerType: kind, CustomData: '' }
    })
  }))
  const dids = def.dids ?? []
  const trunks = def.trunks.map((t, i) => ({
    Id: 50 + i, Number: t.number, IsOnline: true, Direction: 'Both' as const, ExternalNumber: t.externalNumber ?? '',
    Gateway: { Name: t.name, Host: t.host ?? 'sip.example.net', Port: 5060, Type: 'Provider' },
    DidNumbers: dids.filter((d) => (d.trunk ?? mainTrunk.number) === t.number).map((d) => d.number),
    EnableInboundCalls: true, EnableOutboundCalls: true, SimultaneousCalls: 2000, OutboundCallerID: t.externalNumber ?? ''
  }))
  const destName = (n: string): string => nameOf(n) !== n ? nameOf(n) : [...queues, ...ringGroups, ...receptionists].find((x) => x.Number === n)?.Name ?? n
  const routePoint = (n: string): boolean => def.apiClients.some((c) => c.clientId === n)
  const inboundRules = dids.map((d, i) => {
    const trunk = trunks.find((t) => t.Number === (d.trunk ?? mainTrunk.number)) ?? trunks[0]
    const dest = routePoint(d.to)
      ? { To: 'RoutePoint' as const, Number: d.to, Name: `API client ${d.to}`, External: '' }
      : { To: kindOf(d.to) ?? 'Extension', Number: d.to, Name: destName(d.to), External: '' }
    return {
      Id: 60 + i, RuleName: d.name, Data: d.number, Condition: 'BasedOnDID' as const, CallType: 'AllCalls' as const,
      TrunkDN: { Id: trunk.Id, Name: trunk.Gateway.Name, Number: trunk.Number, Type: 'ExternalLine' as const, Hidden: false, Tags: [] },
      OfficeHoursDestination: dest, OutOfOfficeHoursDestination: { ...dest }, HolidaysDestination: { ...dest }, CustomData: ''
    }
  })
  const apiClients: SimApiClient[] = def.apiClients.map((c) => ({
    clientId: c.clientId, secret: c.secret, xapi: c.xapi ?? true, callControl: c.callControl ?? true, role: c.role ?? 'SystemOwner', monitored: c.monitored ?? 'all',
    ...(c.department === undefined ? {} : { department: c.department })
  }))
  return {
    users,
    queues,
    ringGroups,
    receptionists,
    trunks,
    didNumbers: dids.map((d) => ({ Number: d.number, TrunkId: trunks.find((t) => t.Number === (d.trunk ?? mainTrunk.number))?.Id ?? 50, TemplateFileName: '' })),
    inboundRules,
    groups: departments.map((d, i) => ({ Id: i + 1, Number: d.number, Name: d.name, IsDefault: i === 0, HasMembers: d.members.length > 0, MemberNumbers: [...d.members] })),
    apiClients,
    system: {
      Version: def.system?.version ?? '20.0.10.999', FQDN: def.system?.fqdn ?? 'sim.3cx.local', MaxSimCalls: def.system?.maxSimCalls ?? 2000,
      ProductCode: def.system?.productCode ?? '3CXPSPROFENT', LicenseActive: true, LicenseKey: def.system?.licenseKey ?? 'SIM0-0000-0000-0001'
    }
  }
}

/**
 * `--pbx FILE` / SIM_PBX and `--state FILE` as simulator options. In demo mode (`pbxClient` given)
 * the gateway is pointed at the definition's first API client unless one matches its settings.
 */
export function simulatorFileOptions (values: { pbx?: string, state?: string }, env: NodeJS.ProcessEnv = process.env, pbxClient?: { clientId: string, clientSecret: string }): { pbx?: PbxDefinition, statePath?: string } {
  const file = values.pbx ?? env.SIM_PBX
  const pbx = file === undefined || file === '' ? undefined : loadPbxDefinition(file)
  if (pbx !== undefined && pbxClient !== undefined && !pbx.apiClients.some((c) => c.clientId === pbxClient.clientId && c.secret === pbxClient.clientSecret)) {
    pbxClient.clientId = pbx.apiClients[0].clientId
    pbxClient.clientSecret = pbx.apiClients[0].secret
  }
  return { ...(pbx === undefined ? {} : { pbx }), ...(values.state === undefined ? {} : { statePath: values.state }) }
}
