// What the directory cache holds: the few XAPI fields the legacy API answers from, mapped once at
// load time (pure functions) so a cached request does no per-request work beyond a lookup.
import { profileDisplayName } from '../legacy/params.js'

export type QueueLoginStatus = 'LoggedIn' | 'LoggedOut'

export interface DirectoryProfile {
  /** 3CX's internal name (what `CurrentProfileName` holds and PATCH expects). */
  name: string
  displayName: string
  /** The profile logs the agent in/out of queues by office hours (`OfficeHoursAutoQueueLogOut`). */
  autoQueueLogOut: boolean
}

export interface DirectoryUser {
  id: number
  number: string
  firstName: string
  lastName: string
  email: string
  mobile: string
  outboundCallerId: string
  enabled: boolean
  registered: boolean
  currentProfile: string
  /** Display name of the active profile (ext.state.get `fwdName`). */
  fwdName: string
  queueStatus: QueueLoginStatus
  departments: string[]
  profiles: DirectoryProfile[]
}

/** One row of the users list (ext.list.get, ext.registered.get, queue/group free agents). */
export interface UserSummary {
  id: number
  number: string
  registered: boolean
  queueStatus: QueueLoginStatus
  /** The active forwarding profile (Available, Away, …). */
  currentProfile: string
}

/** A queue or a ring group with its member numbers. */
export interface DirectoryGroup {
  id: number
  number: string
  name: string
  members: string[]
}

export interface Indexed<T> {
  list: T[]
  byNumber: Map<string, T>
}

/** Queues plus, per agent, the queues they belong to (ext.state.get `qStatus`). */
export interface QueueIndex extends Indexed<DirectoryGroup> {
  queuesOfAgent: Map<string, string[]>
}

// XAPI's raw shapes, only the selected fields (all nullable as in the swagger).
export interface XapiUserRow {
  Id: number
  Number?: string | null
  FirstName?: string | null
  LastName?: string | null
  EmailAddress?: string | null
  Mobile?: string | null
  OutboundCallerID?: string | null
  Enabled?: boolean | null
  IsRegistered?: boolean | null
  CurrentProfileName?: string | null
  QueueStatus?: string | null
  Groups?: Array<{ Name?: string | null }> | null
  ForwardingProfiles?: Array<{ Name?: string | null, CustomName?: string | null, OfficeHoursAutoQueueLogOut?: boolean | null }> | null
}

export interface XapiGroupRow {
  Id: number
  Number?: string | null
  Name?: string | null
  Agents?: Array<{ Number?: string | null }> | null
  Members?: Array<{ Number?: string | null }> | null
}

const str = (v: string | null | undefined): string => v ?? ''
const loginStatus = (v: string | null | undefined): QueueLoginStatus => (v === 'LoggedIn' ? 'LoggedIn' : 'LoggedOut')

/**
 * Users share the same few profile lists and department lists: keep one frozen copy of each
 * (bounded, so unusual data cannot grow it without limit). A cached user then costs a few hundred
 * bytes instead of a copy of every profile object and string.
 */
const INTERN_LIMIT = 10_000
const interned = new Map<string, unknown>()
function intern<T> (key: string, make: () => T): T {
  const hit = interned.get(key)
  if (hit !== undefined) return hit as T
  const value = Object.freeze(make())
  if (interned.size < INTERN_LIMIT) interned.set(key, value)
  return value
}

export function toDirectoryUser (u: XapiUserRow): DirectoryUser {
  const rawProfiles = u.ForwardingProfiles ?? []
  const profiles = intern(`p\u0000${rawProfiles.map((p) => `${str(p.Name)}\u0001${str(p.CustomName)}\u0001${p.OfficeHoursAutoQueueLogOut === true ? 1 : 0}`).join('\u0000')}`,
    () => rawProfiles.map((p): DirectoryProfile => Object.freeze({
      name: str(p.Name),
      displayName: profileDisplayName({ Name: str(p.Name), CustomName: p.CustomName }),
      autoQueueLogOut: p.OfficeHoursAutoQueueLogOut === true
    }))) as DirectoryProfile[]
  const departmentNames = (u.Groups ?? []).map((g) => str(g.Name)).filter((n) => n !== '')
  const departments = intern(`d\u0000${departmentNames.join('\u0000')}`, () => departmentNames) as string[]
  const currentProfile = str(u.CurrentProfileName)
  const active = profiles.find((p) => p.name === currentProfile)
  return {
    id: u.Id,
    number: str(u.Number),
    firstName: str(u.FirstName),
    lastName: str(u.LastName),
    email: str(u.EmailAddress),
    mobile: str(u.Mobile),
    outboundCallerId: str(u.OutboundCallerID),
    enabled: u.Enabled !== false,
    registered: u.IsRegistered === true,
    currentProfile,
    fwdName: active?.displayName ?? profileDisplayName({ Name: currentProfile }),
    queueStatus: loginStatus(u.QueueStatus),
    departments,
    profiles
  }
}

export function toUserSummary (u: XapiUserRow): UserSummary {
  return { id: u.Id, number: str(u.Number), registered: u.IsRegistered === true, queueStatus: loginStatus(u.QueueStatus), currentProfile: str(u.CurrentProfileName) }
}

export function toDirectoryGroup (g: XapiGroupRow): DirectoryGroup {
  const members = g.Agents ?? g.Members ?? []
  return { id: g.Id, number: str(g.Number), name: str(g.Name), members: members.map((m) => str(m.Number)).filter((n) => n !== '') }
}

export function indexByNumber<T extends { number: string }> (list: T[]): Indexed<T> {
  return { list, byNumber: new Map(list.map((x) => [x.number, x])) }
}

export function indexQueues (queues: DirectoryGroup[]): QueueIndex {
  const queuesOfAgent = new Map<string, string[]>()
  for (const q of queues) {
    for (const agent of q.members) {
      const list = queuesOfAgent.get(agent)
      if (list === undefined) queuesOfAgent.set(agent, [q.number])
      else list.push(q.number)
    }
  }
  return { ...indexByNumber(queues), queuesOfAgent }
}
