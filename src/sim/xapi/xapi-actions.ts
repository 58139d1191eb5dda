// XAPI writes: PATCH of Users/Queues/RingGroups, DELETE of Users (and what names them), and the bound actions Users/Pbx.MakeCall and
// ActiveCalls({Id})/Pbx.DropCall, which drive the call engine.
import type { CallParticipant } from '../../pbx/callcontrol-types.js'
import type { SimContext } from '../sim-context.js'
import { SimScriptError } from '../engine/call-engine.js'
import type { SimApiClient, SimDirectory, SimQueue, SimRingGroup, SimUser } from '../sim-types.js'
import { badQuery, notFound } from './odata-error.js'
import type { Row } from './odata-filter.js'
import { parseEntityKey, type PathSegment } from './xapi-path.js'
import { UnmatchedPath, findEntity, unknownPath, type XapiResult } from './xapi-read.js'
import { patchQueue, patchRingGroup, patchUser, setDepartments } from './entity-patch.js'
import { requireInScope } from './client-scope.js'
import { devicesOf } from '../callcontrol/dn-visibility.js'

// Rows of these sets are the directory objects themselves, so the casts are exact.
const PATCHERS: Readonly<Record<string, (directory: SimDirectory, entity: Row, body: unknown) => void>> = {
  Users: (d, user, body) => { patchUser(d, user as unknown as SimUser, body) },
  Queues: (d, queue, body) => { patchQueue(d, queue as unknown as SimQueue, body) },
  RingGroups: (d, group, body) => { patchRingGroup(d, group as unknown as SimRingGroup, body) }
}

const noContent: XapiResult = { kind: 'json', status: 204, body: undefined }

export function patchXapi (ctx: SimContext, segments: PathSegment[], body: unknown): XapiResult {
  const [segment] = segments
  const patcher = PATCHERS[segment.name]
  if (segments.length !== 1 || patcher === undefined || segment.args === undefined || parseEntityKey(segment.args)?.kind !== 'id') {
    throw new UnmatchedPath(405, 'MethodNotAllowed', 'PATCH is not supported on this resource.')
  }
  patcher(ctx.directory, findEntity(ctx, segment), body)
  return noContent
}

export function postXapi (ctx: SimContext, segments: PathSegment[], body: unknown, client?: SimApiClient): XapiResult {
  const [first, second] = segments
  if (segments.length === 2 && first.name === 'Users' && first.args === undefined && second.name === 'Pbx.MakeCall' && second.args === undefined) {
    return makeCall(ctx, body, client)
  }
  if (segments.length === 2 && first.name === 'ActiveCalls' && first.args !== undefined && second.name === 'Pbx.DropCall' && second.args === undefined) {
    const key = parseEntityKey(first.args)
    if (key?.kind !== 'id') throw notFound(`'${first.args}' is not a valid ActiveCall key.`)
    const live = ctx.engine.records().some((r) => r.callid === key.id && r.status !== 'ended')
    if (!live || !ctx.engine.dropCall(key.id)) throw notFound(`No active call with Id ${key.id}.`)
    return { kind: 'json', status: 200, body: {} }
  }
  throw unknownPath(segments)
}

const MAKE_CALL_FIELDS = new Set(['dn', 'destination', 'contact', 'testCall'])

/** POST Users/Pbx.MakeCall with the lowercase body `{dn, destination, contact?, testCall?}`. */
function makeCall (ctx: SimContext, body: unknown, client: SimApiClient | undefined): XapiResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badQuery('The MakeCall body must be a JSON object {"dn","destination"}.')
  const b = body as Record<string, unknown>
  const unknown = Object.keys(b).find((k) => !MAKE_CALL_FIELDS.has(k))
  if (unknown !== undefined) throw badQuery(`The property '${unknown}' does not exist on the MakeCall parameters (dn, destination, contact, testCall).`)
  if (typeof b.dn !== 'string' || b.dn === '') throw badQuery("MakeCall needs 'dn', the extension that places the call.")
  if (typeof b.destination !== 'string' || b.destination === '') throw badQuery("MakeCall needs 'destination', the number to call.")
  if (b.contact !== undefined && b.contact !== null && typeof b.contact !== 'string') throw badQuery("'contact' must be a string or null.")
  if (b.testCall !== undefined && b.testCall !== null && typeof b.testCall !== 'boolean') throw badQuery("'testCall' must be a boolean.")
  requireInScope(ctx.directory, client, b.dn, 'MakeCall')
  // A named device (contact) must be one of the extension's; an unregistered extension has none,
  // and is refused below as PhoneNotRegistered.
  const devices = devicesOf(ctx.directory, b.dn)
  if (typeof b.contact === 'string' && b.contact !== '' && devices.length > 0 && !devices.some((d) => d.device_id === b.contact)) {
    throw notFound(`DN ${b.dn} has no registered device ${b.contact}.`)
  }
  let p: CallParticipant
  try {
    // 3CX's refusals (PhoneNotRegistered, NoDestinations, PhoneBusy) answer 400 with the same sentence
    // Call Control gives as reasontext.
    p = ctx.engine.makeCall(b.dn, b.destination, { refusals: true })
  } catch (err) {
    if (err instanceof SimScriptError) throw badQuery(err.message)
    throw err
  }
  return {
    kind: 'json',
    status: 200,
    body: {
      FinalStatus: 'Success',
      Reason: 'None',
      ReasonText: '',
      VttId: null,
      Result: {
        Id: p.id, CallId: p.callid, LegId: p.legid, DN: p.dn, DeviceId: p.device_id, DirectControl: p.direct_control,
        PartyDn: p.party_dn, PartyDnType: p.party_dn_type, PartyCallerId: p.party_caller_id, PartyCallerName: p.party_caller_name, Status: p.status
      }
    }
  }
}

/**
 * DELETE: the generic XAPI deletes (generic-xapi.ts), except users, which 3CX also takes out of
 * every queue, ring group and department they belong to. Calls in progress go on: the engine looks
 * extensions up afresh, so a deleted one is simply no longer found.
 */
export function deleteXapi (ctx: SimContext, segments: PathSegment[]): XapiResult {
  const [segment] = segments
  if (segments.length !== 1 || segment.name !== 'Users' || segment.args === undefined || parseEntityKey(segment.args)?.kind !== 'id') throw unknownPath(segments)
  removeUser(ctx.directory, findEntity(ctx, segment) as unknown as SimUser)
  return noContent
}

/**
 * Removes a user from the directory and from everything that names its extension, as 3CX does:
 * queue agents, ring group members, departments, IVR options (the key then does nothing), inbound
 * rules' destinations (they become `To: None`, so the DID rings nobody) and the API clients'
 * monitored lists.
 */
export function removeUser (d: SimDirectory, user: SimUser): void {
  const number = user.Number
  d.users.splice(d.users.indexOf(user), 1)
  for (const queue of d.queues) queue.Agents = queue.Agents.filter((a) => a.Number !== number)
  for (const group of d.ringGroups) group.Members = group.Members.filter((m) => m.Number !== number)
  setDepartments(d, number, new Set())
  for (const ivr of d.receptionists) ivr.Forwards = ivr.Forwards.filter((f) => f.ForwardDN !== number)
  for (const rule of d.inboundRules) {
    for (const key of ['OfficeHoursDestination', 'OutOfOfficeHoursDestination', 'HolidaysDestination'] as const) {
      if (rule[key].Number === number) rule[key] = { To: 'None', Number: '', Name: '', External: '' }
    }
  }
  for (const client of d.apiClients) {
    if (client.monitored !== 'all') client.monitored = client.monitored.filter((dn) => dn !== number)
  }
}
