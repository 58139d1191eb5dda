// The gateway's one error shape (legacy-api.md §2): `{"result":false,"error":{"code","message"}}`.
// Route code throws LegacyError; the error handler turns it (and PbxError, validation errors and
// anything unexpected) into that body with the right status.
import { PbxError } from '../pbx/pbx-api.js'

export type LegacyErrorCode =
  | 'BAD_PARAMETER'
  | 'DUPLICATE_PARAMETER'
  | 'BAD_REQUEST'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN_SCOPE'
  | 'CSRF_REFUSED'
  | 'UNKNOWN_METHOD'
  | 'NOT_FOUND'
  | 'NO_TENANTS'
  | 'METHOD_NOT_ALLOWED'
  | 'DEVICE_NOT_FOUND'
  | 'EXT_NOT_FOUND'
  | 'QUEUE_NOT_FOUND'
  | 'GROUP_NOT_FOUND'
  | 'RATE_LIMITED'
  | 'NOT_SUPPORTED_BY_PBX'
  | 'QUEUE_STATUS_PROFILE_DRIVEN'
  | 'NOT_READY'
  | 'STREAM_HOLDER_UNAVAILABLE'
  | 'GATEWAY_ERROR'
  | PbxError['code']

export interface LegacyErrorBody {
  result: false
  error: { code: string, message: string }
}

export class LegacyError extends Error {
  override name = 'LegacyError'
  constructor (readonly status: number, readonly code: LegacyErrorCode, message: string) {
    super(message)
  }
}

export function errorBody (code: string, message: string): LegacyErrorBody {
  return { result: false, error: { code, message } }
}

export const badParameter = (param: string, why: string): LegacyError =>
  new LegacyError(400, 'BAD_PARAMETER', `Parameter "${param}" ${why}`)

export const extNotFound = (num: string): LegacyError =>
  new LegacyError(404, 'EXT_NOT_FOUND', `Extension ${num} does not exist on the PBX`)

export const queueNotFound = (num: string): LegacyError =>
  new LegacyError(404, 'QUEUE_NOT_FOUND', `Queue ${num} does not exist on the PBX`)

export const groupNotFound = (num: string): LegacyError =>
  new LegacyError(404, 'GROUP_NOT_FOUND', `Ring group ${num} does not exist on the PBX`)

/** What usually causes each PBX failure, appended to the PBX client's own sentence. */
const PBX_HINTS: Partial<Record<PbxError['code'], string>> = {
  PBX_AUTH_FAILED: 'Check PBX_CLIENT_ID and PBX_CLIENT_SECRET (Admin > Integrations > API on the PBX).',
  PBX_FORBIDDEN: 'The API client lacks a right: it usually needs the System Owner role and XAPI / Call Control access.',
  PBX_UNREACHABLE: 'Check PBX_URL and that the PBX is up and reachable from the gateway.',
  PBX_TIMEOUT: 'The PBX did not answer in time (PBX_TIMEOUT_MS); try again or narrow the request.'
}

/** A PbxError as the caller sees it: the client's status and code, its sentence plus a hint. */
export function fromPbxError (err: PbxError): LegacyError {
  const hint = PBX_HINTS[err.code]
  const message = hint === undefined || err.message.includes(hint) ? err.message : `${err.message}. ${hint}`
  const status = err.status >= 400 && err.status <= 599 && err.status !== 500 ? err.status : 502
  return new LegacyError(status, err.code, message)
}

/** The legacy error a thrown value stands for, or null when it is unexpected (a bug). */
export function toLegacyError (err: unknown): LegacyError | null {
  if (err instanceof LegacyError) return err
  if (err instanceof PbxError) return fromPbxError(err)
  return null
}
