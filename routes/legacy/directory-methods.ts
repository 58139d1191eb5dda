// §3.2–3.4 directory lists, one extension, queues and ring groups: from the directory cache, with
// busy/talking state from the live call model.
import { extNotFound, groupNotFound, queueNotFound } from '../../src/legacy/legacy-error.js'
import type { DirectoryGroup, DirectoryUser, Indexed, QueueIndex, UserSummary } from '../../src/directory/directory-types.js'
import type { CallModelView } from '../../src/calls/live-call.js'
import type { DirectoryCache } from '../../src/directory/directory-cache.js'
import { defineMethod, SerializedJson } from './legacy-method.js'
import {
  boolResponse, departmentsResponse, extInfoResponse, extStateResponse, noParams, numsResponse, params, querystring
} from './schemas.js'

interface NumQuery { num: string }

const numQuery = querystring({ num: params.num })
const queueQuery = querystring({ num: params.queueNum })
const groupQuery = querystring({ num: params.groupNum })

async function queueOf (directory: DirectoryCache, num: string): Promise<DirectoryGroup> {
  const q = (await directory.queues()).byNumber.get(num)
  if (q === undefined) throw queueNotFound(num)
  return q
}

async function ringGroupOf (directory: DirectoryCache, num: string): Promise<DirectoryGroup> {
  const g = (await directory.ringGroups()).byNumber.get(num)
  if (g === undefined) throw groupNotFound(num)
  return g
}

/** Members that are registered, not in any call and (for queues) logged in. */
function freeMembers (members: readonly string[], users: Indexed<UserSummary>, calls: CallModelView, needsQueueLogin: boolean): string[] {
  return members.filter((n) => {
    const u = users.byNumber.get(n)
    return u !== undefined && u.registered && (!needsQueueLogin || u.queueStatus === 'LoggedIn') && !calls.isBusy(n)
  })
}

async function freeQueueAgents (num: string, directory: DirectoryCache, calls: CallModelView): Promise<string[]> {
  const [q, users] = await Promise.all([queueOf(directory, num), directory.users()])
  return freeMembers(q.members, users, calls, true)
}

function extState (num: string, u: DirectoryUser | null, queues: QueueIndex, calls: CallModelView): object {
  if (u === null) throw extNotFound(num)
  const status = u.queueStatus
  return {
    num: u.number,
    registered: u.registered,
    status: calls.isBusy(num) ? 'Busy' : 'Free',
    fwdName: u.fwdName,
    qGlobalStatus: status,
    qStatus: (queues.queuesOfAgent.get(num) ?? []).map((q) => ({ num: q, status }))
  }
}

/**
 * ext.state.get's answer, serialized once per directory entry, queue index and Free/Busy and then
 * sent as the same bytes: the cached path of the API, polled by CRMs. A refreshed entry or queue
 * index is a new object, and the busy flag is read on every request, so an answer is never stale.
 */
function serializedExtState (): (num: string, u: DirectoryUser | null, queues: QueueIndex, calls: CallModelView) => SerializedJson {
  const answers = new WeakMap<DirectoryUser, { queues: QueueIndex, busy: boolean, body: SerializedJson }>()
  return (num, u, queues, calls) => {
    if (u === null) throw extNotFound(num)
    const busy = calls.isBusy(num)
    const last = answers.get(u)
    if (last !== undefined && last.queues === queues && last.busy === busy) return last.body
    const body = new SerializedJson(JSON.stringify(extState(num, u, queues, calls)))
    answers.set(u, { queues, busy, body })
    return body
  }
}
const extStateAnswer = serializedExtState()

const numbersOf = <T extends { number: string }>(index: Indexed<T>): string[] => index.list.map((x) => x.number)

export const directoryMethods = [
  defineMethod({
    name: 'ext.list.get',
    tag: 'directory',
    summary: 'All user extensions',
    querystring: noParams,
    response: numsResponse(['100', '101', '102']),
    handler: async (_q, { directory }) => ({ nums: numbersOf(await directory.users()) })
  }),
  defineMethod({
    name: 'ext.registered.get',
    tag: 'directory',
    summary: 'User extensions with a registered phone',
    querystring: noParams,
    response: numsResponse(['100', '101']),
    handler: async (_q, { directory }) => ({ nums: (await directory.users()).list.filter((u) => u.registered).map((u) => u.number) })
  }),
  defineMethod({
    name: 'group.list.get',
    tag: 'directory',
    summary: 'Ring groups ("call groups")',
    querystring: noParams,
    response: numsResponse(['700']),
    handler: async (_q, { directory }) => ({ nums: numbersOf(await directory.ringGroups()) })
  }),
  defineMethod({
    name: 'queue.list.get',
    tag: 'directory',
    summary: 'Call queues',
    querystring: noParams,
    response: numsResponse(['800', '801']),
    handler: async (_q, { directory }) => ({ nums: numbersOf(await directory.queues()) })
  }),
  defineMethod({
    name: 'ivr.list.get',
    tag: 'directory',
    summary: 'IVRs (digital receptionists)',
    querystring: noParams,
    response: numsResponse(['900']),
    handler: async (_q, { directory }) => ({ nums: await directory.receptionists() })
  }),
  defineMethod({
    name: 'line.list.get',
    tag: 'directory',
    summary: 'External lines (trunk DNs)',
    querystring: noParams,
    response: numsResponse(['10000']),
    handler: async (_q, { directory }) => ({ nums: await directory.lines() })
  }),
  defineMethod({
    name: 'dept.list.get',
    tag: 'directory',
    summary: 'Departments',
    querystring: noParams,
    response: departmentsResponse,
    handler: async (_q, { directory }) => ({ extGroups: await directory.departments() })
  }),
  defineMethod<NumQuery>({
    name: 'ext.info.get',
    tag: 'extensions',
    summary: 'One extension: names, contact data, departments, forwarding profiles',
    querystring: numQuery,
    response: extInfoResponse,
    handler: async ({ num }, { directory }) => {
      const u = await directory.user(num)
      if (u === null) throw extNotFound(num)
      return {
        num: u.number,
        name: u.firstName,
        lastname: u.lastName,
        email: u.email,
        mobile: u.mobile,
        outboundCallerId: u.outboundCallerId,
        enabled: u.enabled,
        departments: u.departments,
        profiles: u.profiles.map((p) => p.displayName)
      }
    }
  }),
  defineMethod<NumQuery>({
    name: 'ext.state.get',
    tag: 'extensions',
    summary: 'One extension: registration, Free/Busy, forwarding profile, queue login',
    description: '`status` is Busy while the extension has any leg in a call (dialling, ringing or talking), from the live call model. `fwdName` is the active forwarding profile\'s display name. 3CX V20 has one queue login status per extension, so every `qStatus` entry equals `qGlobalStatus`.',
    querystring: numQuery,
    response: extStateResponse,
    // The benchmark path: answered from memory when the extension (known to exist) and the queue
    // index are cached; an unknown extension goes through the handler for its 404.
    peek: ({ num }, { directory, calls }) => {
      const u = directory.peekUser(num)
      const queues = directory.peekQueues()
      return u === undefined || u === null || queues === undefined ? undefined : extStateAnswer(num, u, queues, calls)
    },
    handler: async ({ num }, { directory, calls }) => {
      const [u, queues] = await Promise.all([directory.user(num), directory.queues()])
      return extStateAnswer(num, u, queues, calls)
    }
  }),
  defineMethod<NumQuery>({
    name: 'queue.members.get',
    tag: 'queues',
    summary: 'All agents of a queue',
    querystring: queueQuery,
    response: numsResponse(['101', '102', '103']),
    handler: async ({ num }, { directory }) => ({ nums: (await queueOf(directory, num)).members })
  }),
  defineMethod<NumQuery>({
    name: 'queue.free.get',
    tag: 'queues',
    summary: 'Agents of a queue that are logged in, registered and not in a call',
    querystring: queueQuery,
    response: numsResponse(['102']),
    handler: async ({ num }, { directory, calls }) => ({ nums: await freeQueueAgents(num, directory, calls) })
  }),
  defineMethod<NumQuery>({
    name: 'queue.talk.get',
    tag: 'queues',
    summary: 'Agents of a queue that are in a conversation now',
    querystring: queueQuery,
    response: numsResponse(['101']),
    handler: async ({ num }, { directory, calls }) => ({ nums: (await queueOf(directory, num)).members.filter((n) => calls.isTalking(n)) })
  }),
  defineMethod<NumQuery>({
    name: 'queue.isfree.get',
    tag: 'queues',
    summary: 'Whether a queue has at least one free agent',
    querystring: queueQuery,
    response: boolResponse,
    handler: async ({ num }, { directory, calls }) => ({ result: (await freeQueueAgents(num, directory, calls)).length > 0 })
  }),
  defineMethod<NumQuery>({
    name: 'group.members.get',
    tag: 'queues',
    summary: 'Members of a ring group',
    querystring: groupQuery,
    response: numsResponse(['100', '101']),
    handler: async ({ num }, { directory }) => ({ nums: (await ringGroupOf(directory, num)).members })
  }),
  defineMethod<NumQuery>({
    name: 'group.free.get',
    tag: 'queues',
    summary: 'Members of a ring group that are registered and not in a call',
    querystring: groupQuery,
    response: numsResponse(['100']),
    handler: async ({ num }, { directory, calls }) => {
      const [g, users] = await Promise.all([ringGroupOf(directory, num), directory.users()])
      return { nums: freeMembers(g.members, users, calls, false) }
    }
  })
]
