// What a PBX answer means, in words an admin can act on (3cx-v20.md §3.4), and the low-cardinality
// route templates used in metrics and messages. Pure functions: no sockets, easy to test.
import { PbxError } from './pbx-api.js'

export type PbxApiName = 'xapi' | 'callcontrol' | 'token'

const CONSOLE = 'Admin > Integrations > API'

/** XAPI entity sets and functions that 3CX only serves to a System Owner client. */
const SYSTEM_OWNER_ONLY = /^(CallHistoryView|Recordings|ChatHistoryView|ScheduledReports|Report[A-Za-z]+)\b/

/**
 * The route of an XAPI path without ids, keys or parameters: `Users(Number='101')/Groups?$top=1` →
 * `Users({key})/Groups`, `ReportCallLogData/Pbx.GetCallLogData(periodFrom=…)` → `ReportCallLogData/Pbx.GetCallLogData`.
 */
export function xapiRouteTemplate (path: string): string {
  let out = ''
  let i = 0
  const p = path.replace(/^\/+/, '')
  while (i < p.length) {
    const c = p[i]
    if (c === '?') break
    if (c !== '(') { out += c; i++; continue }
    // Skip to the matching ')' honouring quoted strings ('' is an escaped quote inside them).
    let depth = 0
    let quoted = false
    for (; i < p.length; i++) {
      const d = p[i]
      if (quoted) {
        if (d === "'" && p[i + 1] === "'") i++
        else if (d === "'") quoted = false
        continue
      }
      if (d === "'") quoted = true
      else if (d === '(') depth++
      else if (d === ')' && --depth === 0) { i++; break }
    }
    const segment = out.slice(out.lastIndexOf('/') + 1)
    if (!segment.includes('.')) out += '({key})'
  }
  return out.length > 0 ? out : '/'
}

/** True when the path calls a bound function with arguments, e.g. `…/Pbx.GetCallLogData(…)`. */
export function isFunctionCall (path: string): boolean {
  return /(^|\/)[A-Za-z_]+\.[A-Za-z_.]+\(/.test(path.split('?')[0])
}

/** The PBX's own error sentence from an OData error (`{"error":{"message"}}`) or a Call Control result. */
export function pbxMessage (body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>
    const e = j.error
    if (typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>).message === 'string') return clip((e as Record<string, string>).message)
    if (typeof j.reasontext === 'string' && j.reasontext !== '') return clip(j.reasontext)
    if (typeof j.error_description === 'string') return clip(j.error_description)
    if (typeof j.message === 'string') return clip(j.message)
  } catch { /* not JSON */ }
  return ''
}

function clip (s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 200)
}

export interface FailedAnswer {
  api: PbxApiName
  method: string
  /** The route template (never caller values). */
  route: string
  /** The path as sent, to tell function calls apart. */
  path: string
  status: number
  body: string
}

/** Maps a non-2xx PBX answer to a PbxError whose message says what to change on the 3CX. */
export function errorForStatus (a: FailedAnswer): PbxError {
  const said = pbxMessage(a.body)
  const suffix = said !== '' ? ` (PBX said: ${said})` : ''
  const what = `${a.method} ${a.api === 'xapi' ? `XAPI ${a.route}` : a.route}`
  const fn = a.api === 'xapi' && isFunctionCall(a.path)
  switch (a.status) {
    case 401:
      return new PbxError('PBX_AUTH_FAILED', `${what}: the PBX rejected a freshly issued token (401). Another program may be using the same API client id (3CX allows one active token per client); give each program its own client in ${CONSOLE}${suffix}`, 502, 401)
    case 403:
      if (a.api === 'callcontrol') {
        return new PbxError('PBX_FORBIDDEN', `${what}: forbidden (403). Tick "3CX Call Control API Access" for the API client in ${CONSOLE} and add the DN to "extensions to monitor"${suffix}`, 502, 403)
      }
      if (SYSTEM_OWNER_ONLY.test(a.route)) {
        return new PbxError('PBX_FORBIDDEN', `${what}: forbidden (403). Call history, recordings and reports need the API client to have the System Owner role (${CONSOLE})${suffix}`, 502, 403)
      }
      return new PbxError('PBX_FORBIDDEN', `${what}: forbidden (403). Tick "XAPI Access Enabled" for the API client in ${CONSOLE} and give it the System Owner role with a PBX-wide department${suffix}`, 502, 403)
    case 404:
      if (fn) return new PbxError('PBX_BAD_FUNCTION_CALL', `${what}: the PBX answered 404 to a function call, which means a missing or malformed parameter${suffix}`, 502, 404)
      return new PbxError('PBX_NOT_FOUND', `${what}: not found on the PBX${suffix}`, 404, 404)
    case 422:
      return new PbxError('PBX_REJECTED', `${what}: the PBX refused the action (422)${said !== '' ? `: ${said}` : '; "answer" only works on devices with direct control (uaCSTA)'}`, 502, 422)
    case 500:
      if (fn) return new PbxError('PBX_BAD_VALUE', `${what}: the PBX answered 500 to a function call, which means a parameter has the wrong type${suffix}`, 502, 500)
      break
    case 504:
      if (fn || SYSTEM_OWNER_ONLY.test(a.route)) return new PbxError('PBX_RANGE_TOO_LARGE', `${what}: the PBX gave up (504); the date range is too large, ask for a shorter period${suffix}`, 504, 504)
      return new PbxError('PBX_TIMEOUT', `${what}: the PBX or a proxy in front of it timed out (504)${suffix}`, 504, 504)
  }
  return new PbxError('PBX_ERROR', `${what}: the PBX answered ${a.status}${suffix}`, 502, a.status)
}

/** The message of anything thrown, for a log line. */
export function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
