// §3.5 control methods (control key): makecall and the setters. Setters answer only after the PBX
// accepted the change and invalidate the cache, so a get right after a set shows the new value.
import { keyPath } from '../../src/pbx/odata.js'
import { PbxError } from '../../src/pbx/pbx-api.js'
import { isSuccessStatus } from '../../src/pbx/callcontrol-client.js'
import type { CallControlResult } from '../../src/pbx/callcontrol-types.js'
import { badParameter, extNotFound, LegacyError, queueNotFound } from '../../src/legacy/legacy-error.js'
import { findProfile, normalizeContact, normalizePhoneNumber, PARAMETER_RULES, parseOnOff, parseRecording } from '../../src/legacy/params.js'
import type { DirectoryUser } from '../../src/directory/directory-types.js'
import type { DirectoryCache } from '../../src/directory/directory-cache.js'
import { defineMethod, type LegacyServices } from './legacy-method.js'
import { makecallResponse, params, querystring, setterResponse } from './schemas.js'

interface MakeCallQuery { first: string, second: string, contact?: string, timeout?: string }
interface FwdQuery { num: string, status: string }
interface QueueGlobalQuery { num: string, log: string }
interface QueueQuery { num: string, queue: string, log: string }
interface OptionsQuery { num: string, enabled?: string, external?: string, recording?: string }

const OK = { result: true } as const

async function userOf (directory: DirectoryCache, num: string): Promise<DirectoryUser> {
  const u = await directory.user(num)
  if (u === null) throw extNotFound(num)
  return u
}

/** PATCH the user, then drop what the cache holds for it. */
async function patchUser ({ xapi, directory }: LegacyServices, u: DirectoryUser, body: Record<string, unknown>): Promise<void> {
  await xapi.patch(keyPath('Users', u.id), body)
  directory.invalidateUser(u.number)
}

/**
 * The PBX refused the call the caller asked for (unknown destination, not allowed, …): a 422 the
 * caller can act on, not a gateway failure.
 */
function rejected (q: MakeCallQuery, destination: string, reason: string | null | undefined): LegacyError {
  const why = reason !== undefined && reason !== null && reason !== '' ? `: ${reason}` : ''
  return new LegacyError(422, 'PBX_REJECTED', `The PBX refused to place the call from ${q.first} to ${destination}${why}; check "second" (and "contact")`)
}

/** A Call Control answer that refuses the request itself (400, 422, finalstatus not Success). */
function isRefusal (err: unknown): err is PbxError {
  return err instanceof PbxError && (err.code === 'PBX_REJECTED' || err.pbxStatus === 400 || err.pbxStatus === 422)
}

/**
 * 503 on a standby replica whose stream holder did not name the call (docs/operating.md "Replicas on
 * one database"); the message says whether the call was placed, so nobody retries a ringing call.
 */
function noStreamHolder (q: MakeCallQuery, destination: string, placed: number | null): LegacyError {
  const what = placed === null
    ? `The call from ${q.first} to ${destination} was not placed: this replica (a standby) knows no replica holding the PBX's event stream, which names the calls; retry in a few seconds, or check the replicas' /readyz`
    : `The call from ${q.first} to ${destination} was placed (3CX call id ${placed}), but the replica holding the PBX's event stream did not confirm its call id in time; do not place it again: its webhooks carry a chid ending in _${placed}`
  return new LegacyError(503, 'STREAM_HOLDER_UNAVAILABLE', what)
}

interface XapiMakeCallResult {
  FinalStatus?: string | null
  ReasonText?: string | null
  Result?: { CallId?: number | null } | null
}

/** Call Control makecall; XAPI Users/Pbx.MakeCall when Call Control does not monitor the DN. Never retried. */
async function placeCall (svc: LegacyServices, q: MakeCallQuery, destination: string, timeout: number | undefined): Promise<number | null> {
  let result: CallControlResult
  try {
    result = await svc.callControl.makeCall(q.first, { destination, ...(timeout === undefined ? {} : { timeout }) }, q.contact)
  } catch (err) {
    if (isRefusal(err)) throw rejected(q, destination, err.message)
    if (!(err instanceof PbxError) || (err.pbxStatus !== 403 && err.pbxStatus !== 404)) throw err
    // A named device that does not exist is the caller's mistake: ringing another path instead
    // would place a call the caller did not ask for.
    if (q.contact !== undefined && err.pbxStatus === 404) await assertDeviceExists(svc, q.first, q.contact)
    const x = await svc.xapi.post<XapiMakeCallResult | null>('Users/Pbx.MakeCall',
      { dn: q.first, destination, contact: q.contact ?? null, testCall: false },
      timeout === undefined ? {} : { timeoutMs: timeout })
      .catch((e: unknown) => { throw isRefusal(e) ? rejected(q, destination, e.message) : e })
    if (x !== null && x !== undefined && x.FinalStatus != null && !isSuccessStatus(x.FinalStatus)) throw rejected(q, destination, x.ReasonText)
    return x?.Result?.CallId ?? null
  }
  // The client already refused a result without a participant that is not a success.
  return result.result?.callid ?? null
}

/**
 * Throws DEVICE_NOT_FOUND when Call Control sees `dn` but not its device `contact`. When Call Control
 * does not see `dn` at all (not monitored), the 404 was about the DN and XAPI may place the call.
 */
async function assertDeviceExists (svc: LegacyServices, dn: string, contact: string): Promise<void> {
  const info = (await svc.callControl.snapshot()).find((d) => d.dn === dn)
  if (info === undefined || info.devices.some((d) => d.device_id === contact)) return
  const known = info.devices.map((d) => d.device_id)
  throw new LegacyError(404, 'DEVICE_NOT_FOUND', `Extension ${dn} has no registered device "${contact}"; ` +
    (known.length === 0 ? 'it has no registered device now (leave out "contact" once a phone is registered)' : `use one of ${known.join(', ')}, or leave out "contact" to ring all of them`))
}

export const controlMethods = [
  defineMethod<MakeCallQuery>({
    name: 'makecall',
    tag: 'control',
    summary: 'Place a call from an extension to a number',
    description: 'The PBX rings `first` (or its device `contact`) and dials `second`. Uses Call Control `POST /callcontrol/{first}/makecall` (device variant with `contact`); when the API client does not monitor `first`, XAPI `Users/Pbx.MakeCall`. Never retried. `chid` identifies the call chain in every webhook of the call; `id` is its legacy call id.',
    querystring: querystring({ first: params.first, second: params.second, contact: params.contact, timeout: params.timeout }, ['first', 'second']),
    response: makecallResponse,
    handler: async (q, svc) => {
      const destination = normalizePhoneNumber(q.second)
      if (destination === null) throw badParameter('second', `is ill-formed; it ${PARAMETER_RULES.second}`)
      if (destination === q.first) throw badParameter('second', `is the calling extension ${q.first} itself; it ${PARAMETER_RULES.second}`)
      const timeout = q.timeout === undefined ? undefined : Number(q.timeout)
      if (timeout !== undefined && timeout > 600_000) throw badParameter('timeout', `is too large; it ${PARAMETER_RULES.timeout}`)
      let contact: string | undefined
      if (q.contact !== undefined) {
        const c = normalizeContact(q.contact)
        if ('problem' in c) throw badParameter('contact', c.problem)
        contact = c.contact
      }
      await userOf(svc.directory, q.first)
      // A standby takes the ids from the stream holder: without one it places no call it cannot name.
      if (svc.calls.canReserve?.() === false) throw noStreamHolder(q, destination, null)
      const callid = await placeCall(svc, { ...q, contact }, destination, timeout)
      if (callid === null) throw new LegacyError(502, 'PBX_ERROR', 'The PBX accepted the call but returned no call id')
      const ids = await svc.calls.reserve(callid, Date.now())
      if (ids === null) throw noStreamHolder(q, destination, callid)
      return { result: true, chid: ids.chid, id: ids.legacyId }
    }
  }),
  defineMethod<FwdQuery>({
    name: 'ext.fwd.set',
    tag: 'control',
    summary: 'Switch the active forwarding profile',
    description: '`status` is the profile name in English (Available, Away, Out of office, Custom 1, Custom 2), the PBX\'s display name, or 3CX\'s internal name (OutOfOffice, Available2, OutOfOffice2), any case. PATCHes `Users({Id})` `CurrentProfileName`.',
    querystring: querystring({ num: params.num, status: params.status }),
    response: setterResponse,
    handler: async ({ num, status }, svc) => {
      const u = await userOf(svc.directory, num)
      const profile = findProfile(status, u.profiles.map((p) => ({ Name: p.name, CustomName: p.displayName })))
      if (profile === null) throw badParameter('status', `names no forwarding profile of extension ${num}; use one of ${u.profiles.map((p) => p.displayName).join(', ')}`)
      await patchUser(svc, u, { CurrentProfileName: profile.Name })
      return OK
    }
  }),
  defineMethod<QueueGlobalQuery>({
    name: 'ext.queueglobal.set',
    tag: 'control',
    summary: 'Log an agent in or out of all its queues',
    description: 'PATCHes `Users({Id})` `QueueStatus`. When a forwarding profile of the extension logs it in/out of queues by office hours (OfficeHoursAutoQueueLogOut), the change is made but the answer is `{"result":false}` with code QUEUE_STATUS_PROFILE_DRIVEN: the PBX may override it.',
    querystring: querystring({ num: params.num, log: params.log }),
    response: setterResponse,
    handler: async ({ num, log }, svc) => {
      const u = await userOf(svc.directory, num)
      const status = parseOnOff(log) ? 'LoggedIn' : 'LoggedOut'
      await patchUser(svc, u, { QueueStatus: status })
      const driving = u.profiles.filter((p) => p.autoQueueLogOut).map((p) => p.displayName)
      if (driving.length === 0) return OK
      return {
        result: false,
        error: {
          code: 'QUEUE_STATUS_PROFILE_DRIVEN',
          message: `Queue status of ${num} set to ${status}, but its forwarding profile(s) ${driving.join(', ')} log it in and out of queues by office hours; the PBX may override this change`
        }
      }
    }
  }),
  defineMethod<QueueQuery>({
    name: 'ext.queue.set',
    tag: 'control',
    summary: 'Log an agent in or out of one queue (see the limits of 3CX V20)',
    description: '3CX V20 has no per-queue login, only one queue status per extension (`QueueStatus`, for all its queues). So: when the requested state is already the extension\'s state, nothing changes and the answer is `{"result":true}`; when the extension is an agent of this queue only, its global `QueueStatus` is set (exactly equivalent); when it is an agent of several queues, changing one queue alone is impossible and the answer is 501 NOT_SUPPORTED_BY_PBX (use ext.queueglobal.set). Queue membership is never changed. An extension that is not an agent of the queue: 400 BAD_PARAMETER.',
    querystring: querystring({ num: params.num, queue: params.queue, log: params.log }),
    response: setterResponse,
    handler: async ({ num, queue, log }, svc) => {
      const [u, queues] = await Promise.all([userOf(svc.directory, num), svc.directory.queues()])
      if (!queues.byNumber.has(queue)) throw queueNotFound(queue)
      const ofAgent = queues.queuesOfAgent.get(num) ?? []
      if (!ofAgent.includes(queue)) throw badParameter('queue', `names queue ${queue}, of which extension ${num} is not an agent`)
      const status = parseOnOff(log) ? 'LoggedIn' : 'LoggedOut'
      if (u.queueStatus === status) return OK
      if (ofAgent.length > 1) {
        throw new LegacyError(501, 'NOT_SUPPORTED_BY_PBX', `3CX V20 has no per-queue login: extension ${num} is an agent of queues ${ofAgent.join(', ')} and can only be logged in or out of all of them at once (ext.queueglobal.set)`)
      }
      await patchUser(svc, u, { QueueStatus: status })
      return OK
    }
  }),
  defineMethod<OptionsQuery>({
    name: 'ext.options.set',
    tag: 'control',
    summary: 'Enable/disable an extension, allow external calls, set call recording',
    description: 'PATCHes `Users({Id})`: `enabled` → `Enabled`; `external` → `Internal` (internal calls only = external off); `recording` off → `RecordCalls:false`, external → `RecordCalls:true, RecordExternalCallsOnly:true`, all → `RecordCalls:true, RecordExternalCallsOnly:false`. At least one of the three is required.',
    querystring: querystring({ num: params.num, enabled: params.enabled, external: params.external, recording: params.recording }, ['num']),
    response: setterResponse,
    handler: async (q, svc) => {
      const body: Record<string, boolean> = {}
      if (q.enabled !== undefined) body.Enabled = parseOnOff(q.enabled)
      if (q.external !== undefined) body.Internal = !parseOnOff(q.external)
      if (q.recording !== undefined) {
        const mode = parseRecording(q.recording)
        body.RecordCalls = mode !== 'off'
        if (mode !== 'off') body.RecordExternalCallsOnly = mode === 'external'
      }
      if (Object.keys(body).length === 0) throw badParameter('enabled', 'is missing: give at least one of enabled, external or recording')
      await patchUser(svc, await userOf(svc.directory, q.num), body)
      return OK
    }
  })
]
