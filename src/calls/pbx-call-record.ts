// The PBX's own record of one call, read from XAPI's call log (pbx/call-log-query.ts): one row per
// segment (caller → queue, queue → agent, caller ↔ agent …), each with the call's `CallId`.
// CallHistoryView has no call id, so it cannot be used. The query and the row interpretation are pure; `createCallRecordLookup` does the I/O.
//
// Row interpretation (segment semantics follow the simulator and 3CX's documented fields; check on
// a live PBX): an answered segment whose destination is an extension is a conversation of that
// extension (its source an earlier talker: the consultation of an attended transfer, not talk time
// with the customer); an answered segment from an extension to an external line is the extension's
// outbound conversation. Consecutive segments of one extension are one conversation.
import type { XapiApi } from '../pbx/pbx-api.js'
import { and, compare, eq, type ODataQuery } from '../pbx/odata.js'
import { callLogRequest, type CallLogRow } from '../pbx/call-log-query.js'
import type { CallControlDnType } from '../pbx/callcontrol-types.js'
import type { TransferType } from './call-events.js'

export interface PbxConversation {
  /** The extension in the conversation. */
  user: string
  answeredAt: number
  endedAt: number
  talkSeconds: number
  trtype: TransferType
  /**
   * The transferor took the call back (a blind transfer nobody answered): in legacy terms the same
   * conversation as the one before it, on its link, with no new call-started event.
   */
  returned?: boolean
}

/** Who placed the call and where it went first: what a call the gateway never saw is described by. */
export interface PbxCallOrigin {
  direction: 'inbound' | 'outbound' | 'internal'
  /** The trunk of an external caller or callee; the calling extension of an internal call. */
  customerDn: string
  customerNumber: string
  customerName: string
  /** First DN the call was routed to (the DID rule's destination for inbound calls). */
  firstDestination: string
  firstDestinationType: CallControlDnType
  /** The DN that placed it (the trunk for inbound calls, the extension otherwise). */
  fromDn: string
  startedAt: number
}

export interface PbxCallRecord {
  callid: number
  /** Absent when built without the caller's fields (older callers of pbxCallRecordOf). */
  origin?: PbxCallOrigin
  /** Every DN in the record (to tell whether the gateway monitors any of them). */
  dns?: string[]
  /** Conversations of extensions with the customer, in the order they were answered. */
  conversations: PbxConversation[]
  /** Last queue / ring group / IVR the call went through (where an unanswered call waited), if any. */
  waitedIn: { dn: string, dnType: CallControlDnType } | null
  endedAt: number
}

export interface CallRecordQuery {
  callid: number
  /** When the gateway first saw the call (ms). */
  seenFrom: number
  /** Now (ms). */
  until: number
}

/** Looks the call up on the PBX; null while the PBX has no record of it (yet). */
export type CallRecordLookup = (q: CallRecordQuery) => Promise<PbxCallRecord | null>

/** 3CX's integer DN types in call logs (as the V14–V18 call-log database; unverified on V20). */
const DN_TYPES: Readonly<Record<number, CallControlDnType>> = { 0: 'Wextension', 1: 'Wexternalline', 2: 'Wringgroup', 4: 'Wqueue', 5: 'Wivr', 13: 'Wroutepoint' }
const TRANSFERRED_ACTION = 5

/** The call may have rung before the gateway saw it (a snapshot after a restart): look back this far. */
export const LOOK_BACK_MS = 15 * 60_000

/** `GET /ReportCallLogData/Pbx.GetCallLogData(periodFrom=…,…)?$filter=CallId eq N&$orderby=StartTime asc`. */
export function callRecordRequest (q: CallRecordQuery): { path: string, query: ODataQuery } {
  const range = {
    from: new Date(Math.floor((q.seenFrom - LOOK_BACK_MS) / 1000) * 1000),
    to: new Date(Math.ceil((q.until + 60_000) / 1000) * 1000)
  }
  return callLogRequest(range, { filter: eq('CallId', q.callid), top: 200, skip: 0 })
}

/** `PT1M5S` → 65 (seconds); anything else → 0. */
export function isoSeconds (d: string | null | undefined): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d ?? '')
  if (m === null) return 0
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0)
}

interface Segment {
  src: string
  srcType: CallControlDnType
  srcNumber: string
  srcName: string
  dst: string
  dstType: CallControlDnType
  dstNumber: string
  start: number
  ringS: number
  talkS: number
  answered: boolean
  transferred: boolean
}

function segmentOf (r: CallLogRow): Segment | null {
  const start = Date.parse(r.StartTime ?? '')
  if (Number.isNaN(start)) return null
  return {
    src: r.SourceDn ?? '',
    srcType: DN_TYPES[r.SourceType ?? -1] ?? 'None',
    srcNumber: r.SourceCallerId ?? '',
    srcName: r.SourceDisplayName ?? '',
    dst: r.DestinationDn ?? '',
    dstType: DN_TYPES[r.DestinationType ?? -1] ?? 'None',
    dstNumber: r.DestinationCallerId ?? '',
    start,
    ringS: isoSeconds(r.RingingDuration),
    talkS: isoSeconds(r.TalkingDuration),
    answered: r.Answered === true,
    transferred: r.ActionType === TRANSFERRED_ACTION || r.Reason === 'transferred'
  }
}

/** The call's record from its call-log rows; null when there are none (3CX writes them after the call). */
export function pbxCallRecordOf (callid: number, rows: readonly CallLogRow[]): PbxCallRecord | null {
  const segments = rows.filter((r) => r.CallId === undefined || r.CallId === null || r.CallId === callid).map(segmentOf).filter((s): s is Segment => s !== null)
  if (segments.length === 0) return null
  segments.sort((a, b) => a.start - b.start)
  const conversations: PbxConversation[] = []
  const consulted = new Set<string>()
  let lastTransferred = false
  let waitedIn: PbxCallRecord['waitedIn'] = null
  let endedAt = 0
  for (const s of segments) {
    endedAt = Math.max(endedAt, s.start + (s.ringS + s.talkS) * 1000)
    if (['Wqueue', 'Wringgroup', 'Wivr'].includes(s.dstType)) waitedIn = { dn: s.dst, dnType: s.dstType }
    if (!s.answered) continue
    const outbound = s.srcType === 'Wextension' && s.dstType === 'Wexternalline'
    if (!outbound && s.dstType !== 'Wextension') continue
    const user = outbound ? s.src : s.dst
    const last = conversations.at(-1)
    if (!outbound && s.srcType === 'Wextension' && conversations.some((c) => c.user === s.src)) {
      consulted.add(user) // the consultation of an attended transfer
      continue
    }
    const answeredAt = s.start + s.ringS * 1000
    if (last !== undefined && last.user === user && !lastTransferred) {
      last.talkSeconds += s.talkS
      last.endedAt = Math.max(last.endedAt, answeredAt + s.talkS * 1000)
    } else if (last !== undefined && last.user === user) {
      conversations.push({ user, answeredAt, endedAt: answeredAt + s.talkS * 1000, talkSeconds: s.talkS, trtype: 'NotDef', returned: true })
    } else {
      const trtype: TransferType = last === undefined ? 'NotDef' : consulted.has(user) ? 'Accomp' : lastTransferred ? 'Blind' : 'NotDef'
      conversations.push({ user, answeredAt, endedAt: answeredAt + s.talkS * 1000, talkSeconds: s.talkS, trtype })
    }
    lastTransferred = s.transferred
  }
  const dns = [...new Set(segments.flatMap((s) => [s.src, s.dst]).filter((dn) => dn !== ''))]
  return { callid, conversations, waitedIn, endedAt, origin: originOf(segments), dns }
}

/** The call's origin from its first segment (and, for an extension's call, whether it went out). */
function originOf (segments: readonly Segment[]): PbxCallOrigin {
  const first = segments[0]
  // A queue and its agents start ringing together: the queue (or ring group, IVR) is where it went.
  const routed = segments.find((s) => s.start - first.start <= 1000 && ['Wqueue', 'Wringgroup', 'Wivr'].includes(s.dstType)) ?? first
  const base = { startedAt: first.start, firstDestination: routed.dst, firstDestinationType: routed.dstType, fromDn: first.src }
  if (first.srcType === 'Wexternalline') {
    return { ...base, direction: 'inbound', customerDn: first.src, customerNumber: first.srcNumber || first.srcName, customerName: first.srcName }
  }
  const out = segments.find((s) => s.src === first.src && s.dstType === 'Wexternalline')
  if (out !== undefined) return { ...base, direction: 'outbound', customerDn: out.dst, customerNumber: out.dstNumber, customerName: '' }
  return { ...base, direction: 'internal', customerDn: first.src, customerNumber: first.src, customerName: first.srcName }
}

/** Calls with an id in [low, high] (high null: no upper bound), begun after `seenFrom`, until `until`. */
export interface CallRecordsQuery { low: number, high: number | null, seenFrom: number, until: number }

/** The call-log request of a CallRecordsQuery, one page of it. */
export function callRecordsRequest (q: CallRecordsQuery, page: { top: number, skip: number }): { path: string, query: ODataQuery } {
  const one = callRecordRequest({ callid: q.low, seenFrom: q.seenFrom, until: q.until })
  return { path: one.path, query: { ...one.query, filter: and(compare('CallId', 'ge', q.low), q.high === null ? undefined : compare('CallId', 'le', q.high)), top: page.top, skip: page.skip } }
}

/** Looks up many calls with one paged call-log query; calls without rows are absent from the answer. */
export type CallRecordsLookup = (q: CallRecordsQuery) => Promise<Map<number, PbxCallRecord>>

const RECORDS_PAGE = 500
const RECORDS_MAX_PAGES = 20

export function createCallRecordsLookup (xapi: XapiApi, opts: { timeoutMs?: number } = {}): CallRecordsLookup {
  return async (range) => {
    const out = new Map<number, PbxCallRecord>()
    const rows = new Map<number, CallLogRow[]>()
    for (let page = 0; page < RECORDS_MAX_PAGES; page++) {
      const req = callRecordsRequest(range, { top: RECORDS_PAGE, skip: page * RECORDS_PAGE })
      const { value } = await xapi.list<CallLogRow>(req.path, { query: req.query, timeoutMs: opts.timeoutMs ?? 10_000 })
      for (const r of value) {
        const id = r.CallId
        if (typeof id !== 'number' || id < range.low || (range.high !== null && id > range.high)) continue
        rows.set(id, [...(rows.get(id) ?? []), r])
      }
      if (value.length < RECORDS_PAGE) break
    }
    for (const [id, list] of rows) {
      const record = pbxCallRecordOf(id, list)
      if (record !== null) out.set(id, record)
    }
    return out
  }
}

/**
 * The lookup the call model uses: one small call-log query per call whose end it did not see, at
 * most `concurrency` at a time (a gap in a busy PBX leaves hundreds of such calls).
 */
export function createCallRecordLookup (xapi: XapiApi, opts: { timeoutMs?: number, concurrency?: number } = {}): CallRecordLookup {
  const limit = opts.concurrency ?? 4
  let running = 0
  const waiting: Array<() => void> = []
  return async (q) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      const req = callRecordRequest(q)
      const page = await xapi.list<CallLogRow>(req.path, { query: req.query, timeoutMs: opts.timeoutMs ?? 5000 })
      return pbxCallRecordOf(q.callid, page.value)
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}
