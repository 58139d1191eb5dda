// PATCH /Users({Id}), /Queues({Id}), /RingGroups({Id}): validate a partial body and merge it into the
// directory entity. Collection properties (ForwardingProfiles, Agents, Members) take the full desired
// array, which replaces the list. Unknown or read-only properties and wrong types are 400.
import type { SimDirectory, SimForwardingProfile, SimQueue, SimQueueAgent, SimRingGroup, SimRingGroupMember, SimUser, SimUserGroup } from '../sim-types.js'
import { badQuery } from './odata-error.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import { fitsSpec } from './schema-defaults.js'

type Check = (value: unknown) => boolean
type Body = Record<string, unknown>

const isString: Check = (v) => typeof v === 'string'
const isBool: Check = (v) => typeof v === 'boolean'
const isInt: Check = (v) => Number.isInteger(v)
const isStringArray: Check = (v) => Array.isArray(v) && v.every(isString)
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v)
const isObject = (v: unknown): v is Body => v !== null && typeof v === 'object' && !Array.isArray(v)

const USER_FIELDS: Readonly<Record<string, Check>> = {
  FirstName: isString, LastName: isString, DisplayName: isString, EmailAddress: isString, Mobile: isString,
  OutboundCallerID: isString, Enabled: isBool, CurrentProfileName: isString, QueueStatus: oneOf('LoggedIn', 'LoggedOut'),
  RecordCalls: isBool, RecordExternalCallsOnly: isBool, Internal: isBool, PrimaryGroupId: isInt, Tags: isStringArray
}
const QUEUE_FIELDS: Readonly<Record<string, Check>> = {
  Name: isString,
  PollingStrategy: oneOf('Hunt', 'RingAll', 'HuntRandomStart', 'NextAgent', 'LongestWaiting', 'LeastTalkTime', 'FewestAnswered', 'HuntBy3s', 'First3Available'),
  RingTimeout: isInt, MasterTimeout: isInt, MaxCallersInQueue: isInt, SLATime: isInt, WrapUpTime: isInt,
  Recording: oneOf('Disabled', 'AllowToOptOut', 'AskToOptIn')
}
const RING_GROUP_FIELDS: Readonly<Record<string, Check>> = { Name: isString, RingStrategy: oneOf('Hunt', 'RingAll', 'Paging'), RingTime: isInt }
const PROFILE_FIELDS: Readonly<Record<string, Check>> = { Id: isInt, Name: isString, CustomName: isString, AcceptMultipleCalls: isBool, NoAnswerTimeout: isInt }
/** Pbx.ForwardingProfile properties the simulator does not model: accepted and kept as sent. */
const PROFILE_PASSTHROUGH = new Set(['AvailableRoute', 'AwayRoute', 'BlockPushCalls', 'CustomMessage', 'DisableRingGroupCalls', 'OfficeHoursAutoQueueLogOut', 'RingMyMobile'])
const MEMBER_FIELDS: Readonly<Record<string, Check>> = { Id: isInt, Number: isString, Name: isString, SkillGroup: isString, Tags: isStringArray }

/** Merges scalar fields after checking every key; `special` handles collection properties. */
function mergeFields (target: object, body: unknown, typeName: string, fields: Readonly<Record<string, Check>>, special: Readonly<Record<string, (value: unknown) => void>> = {}): void {
  if (!isObject(body)) throw badQuery(`The request body must be a JSON object with ${typeName} properties.`)
  const record = target as Body
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue
    if (key === 'Id' && value === record.Id) continue
    if (special[key] !== undefined) { special[key](value); continue }
    const check = fields[key]
    if (check === undefined) {
      // A read-modify-write client sends read-only values back unchanged: a real PBX accepts that.
      if (key in record && JSON.stringify(record[key]) === JSON.stringify(value)) continue
      if (key in record) throw badQuery(`The property '${key}' of ${typeName} cannot be changed.`)
      // Properties of the swagger type the simulator does not model are kept as sent.
      const declared = XAPI_MODEL.types[typeName]?.properties[key]
      if (declared === undefined) throw badQuery(`The property '${key}' does not exist on type '${typeName}'. Make sure to only use property names that are defined by the type.`)
      if (!fitsSpec(declared, value)) throw badQuery(`Cannot convert the literal '${JSON.stringify(value)}' to the expected type of '${typeName}.${key}'.`)
      continue
    }
    if (!check(value)) throw badQuery(`The value of '${key}' on ${typeName} has the wrong type or is not allowed: ${JSON.stringify(value)}.`)
  }
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.') || special[key] !== undefined) continue
    if (fields[key] !== undefined || !(key in record)) record[key] = value
  }
}

function checkItem (item: unknown, typeName: string, fields: Readonly<Record<string, Check>>, passthrough: ReadonlySet<string> = new Set()): Body {
  if (!isObject(item)) throw badQuery(`Every item of the ${typeName} array must be an object.`)
  for (const [key, value] of Object.entries(item)) {
    if (key.startsWith('@odata.') || passthrough.has(key)) continue
    const check = fields[key]
    if (check === undefined) throw badQuery(`The property '${key}' does not exist on type '${typeName}'.`)
    if (!check(value)) throw badQuery(`The value of '${key}' on ${typeName} has the wrong type: ${JSON.stringify(value)}.`)
  }
  return item
}

function replaceProfiles (user: SimUser, value: unknown): SimForwardingProfile[] {
  if (!Array.isArray(value) || value.length === 0) throw badQuery('ForwardingProfiles must be the full, non-empty array of Pbx.ForwardingProfile.')
  let nextId = Math.max(0, ...user.ForwardingProfiles.map((p) => p.Id)) + 1
  return value.map((raw) => {
    const item = checkItem(raw, 'Pbx.ForwardingProfile', PROFILE_FIELDS, PROFILE_PASSTHROUGH)
    const existing = user.ForwardingProfiles.find((p) => p.Id === item.Id)
    const merged = { ...existing, ...item, Id: existing?.Id ?? nextId++ } as Partial<SimForwardingProfile>
    if (typeof merged.Name !== 'string' || merged.Name === '') throw badQuery('Every forwarding profile needs a Name.')
    return { CustomName: merged.Name, AcceptMultipleCalls: false, NoAnswerTimeout: 20, ...merged } as SimForwardingProfile
  })
}

/** `Groups: [{GroupId, Rights: {RoleName}}]`: the user's full department membership. */
function replaceGroups (directory: SimDirectory, user: SimUser, value: unknown): SimUserGroup[] {
  if (!Array.isArray(value)) throw badQuery('Groups must be the full array of Pbx.UserGroup.')
  return value.map((raw, i) => {
    if (!isObject(raw) || !Number.isInteger(raw.GroupId)) throw badQuery('Every Pbx.UserGroup needs its GroupId.')
    const group = directory.groups.find((g) => g.Id === raw.GroupId)
    if (group === undefined) throw badQuery(`Group ${String(raw.GroupId)} does not exist.`)
    const existing = user.Groups.find((g) => g.GroupId === group.Id)
    const rights = isObject(raw.Rights) && typeof raw.Rights.RoleName === 'string' ? { RoleName: raw.Rights.RoleName } : existing?.Rights ?? { RoleName: 'users' }
    return { Id: existing?.Id ?? 1000 + group.Id * 100 + i, GroupId: group.Id, Name: group.Name, Number: group.Number, MemberName: user.DisplayName, Type: 'Extension', Rights: rights }
  })
}

/** Makes an extension a member of exactly the departments (Groups) with the given ids. */
export function setDepartments (directory: SimDirectory, number: string, groupIds: ReadonlySet<number>): void {
  for (const g of directory.groups) {
    g.MemberNumbers = g.MemberNumbers.filter((n) => n !== number)
    if (groupIds.has(g.Id)) g.MemberNumbers.push(number)
    g.HasMembers = g.MemberNumbers.length > 0
  }
}

/** PATCH Users({Id}). CurrentProfileName must name one of the user's profiles (after the patch). */
export function patchUser (directory: SimDirectory, user: SimUser, body: unknown): void {
  let profiles: SimForwardingProfile[] | null = null
  let groups: SimUserGroup[] | null = null
  const draft = { ...user }
  mergeFields(draft, body, 'Pbx.User', USER_FIELDS, {
    ForwardingProfiles: (v) => { profiles = replaceProfiles(user, v) },
    Groups: (v) => { groups = replaceGroups(directory, user, v) }
  })
  if (profiles !== null) draft.ForwardingProfiles = profiles
  if (groups !== null) {
    setDepartments(directory, user.Number, new Set((groups as SimUserGroup[]).map((g) => g.GroupId)))
    draft.Groups = groups
  }
  if (!draft.ForwardingProfiles.some((p) => p.Name === draft.CurrentProfileName)) {
    throw badQuery(`CurrentProfileName '${draft.CurrentProfileName}' is not a forwarding profile of extension ${user.Number}; use one of ${draft.ForwardingProfiles.map((p) => p.Name).join(', ')}.`)
  }
  Object.assign(user, draft)
}

/** A full member list (`[{Number, SkillGroup?}, …]`): every Number must be an existing user; names come from the directory. */
function replaceMembers<T extends SimQueueAgent | SimRingGroupMember> (directory: SimDirectory, current: T[], value: unknown, typeName: string, baseId: number, extra: (item: Body) => Partial<T>): T[] {
  if (!Array.isArray(value)) throw badQuery(`${typeName} must be given as the full array.`)
  let nextId = Math.max(baseId, ...current.map((m) => m.Id)) + 1
  const seen = new Set<string>()
  return value.map((raw) => {
    const item = checkItem(raw, typeName, MEMBER_FIELDS)
    if (typeof item.Number !== 'string') throw badQuery(`Every ${typeName} needs a Number.`)
    const user = directory.users.find((u) => u.Number === item.Number)
    if (user === undefined) throw badQuery(`Extension ${item.Number} does not exist.`)
    if (seen.has(user.Number)) throw badQuery(`Extension ${user.Number} is listed twice.`)
    seen.add(user.Number)
    const existing = current.find((m) => m.Number === user.Number)
    return { Id: existing?.Id ?? nextId++, Number: user.Number, Name: user.DisplayName, Tags: (item.Tags as string[] | undefined) ?? existing?.Tags ?? [], ...extra(item) } as T
  })
}

/** PATCH Queues({Id}); `Agents` replaces the whole list. */
export function patchQueue (directory: SimDirectory, queue: SimQueue, body: unknown): void {
  let agents: SimQueueAgent[] | null = null
  const draft = { ...queue }
  mergeFields(draft, body, 'Pbx.Queue', QUEUE_FIELDS, {
    Agents: (v) => { agents = replaceMembers<SimQueueAgent>(directory, queue.Agents, v, 'Pbx.QueueAgent', 0, (item) => ({ SkillGroup: typeof item.SkillGroup === 'string' ? item.SkillGroup : '1' })) }
  })
  if (agents !== null) draft.Agents = agents
  Object.assign(queue, draft)
}

/** PATCH RingGroups({Id}); `Members` replaces the whole list. */
export function patchRingGroup (directory: SimDirectory, group: SimRingGroup, body: unknown): void {
  let members: SimRingGroupMember[] | null = null
  const draft = { ...group }
  mergeFields(draft, body, 'Pbx.RingGroup', RING_GROUP_FIELDS, {
    Members: (v) => { members = replaceMembers<SimRingGroupMember>(directory, group.Members, v, 'Pbx.RingGroupMember', 0, () => ({})) }
  })
  if (members !== null) draft.Members = members
  Object.assign(group, draft)
}
