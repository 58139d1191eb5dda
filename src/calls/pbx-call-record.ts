// The PBX's own record of one call, read from XAPI's call log (`ReportCallLogData/Pbx.GetCallLogData`,
// 3cx-v20.md §4.10): its rows carry the Call Control `callid` as `CallId`, one row per segment
// (caller → queue, queue → agent, caller ↔ agent …). CallHistoryView has no call id, so it cannot be
// used. The query and the row interpretation are pure; `createCallRecordLookup` does the I/O.
//
// Row interpretation (segment semantics follow the simulator and 3CX's documented fields; check on
// a live PBX): an answered segment whose destination is an extension is a conversation of that
// extension (its source an earlier talker: the consultation of an attended transfer, not talk time
// with the customer); an answered segment from an extension to an external line is the extension's
// outbound conversation. Consecutive segments of one extension are one conversation.
import type { XapiApi } from '../pbx/pbx-api.js'
import { eq, type ODataQuery } from '../pbx/odata.js'
import { callLogQuery } from '../reports/report-queries.js'
import type { CallControlDnType } from '../pbx/callcontrol-types.js'
import type { TransferType } from './call-events.js'

/** `Pbx.CallLogData` as far as reconciliation reads it. */
export interface CallLogRow {
  CallId?: number | null
  SegmentId?: number | null
  StartTime?: string | null
  Answered?: boolean | null
  Reason?: string | null
  ActionType?: number | null
  SourceDn?: string | null
  SourceType?: number | null
  DestinationDn?: string | null
  DestinationType?: number | null
  RingingDuration?: string | null
  TalkingDuration?: string | null
}

export interface PbxConversation {
  /** The extension in the conversation. */
  user: string
  answeredAt: number
  endedAt: number
  talkSeconds: number
  trtype: TransferType
}

export interface PbxCallRecord {
  callid: number
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
  const req = callLogQuery(range, {}, { top: 200, skip: 0 })
  return { path: req.path, query: { ...req.query, filter: eq('CallId', q.callid) } }
}

/** `PT1M5S` → 65 (seconds); anything else → 0. */
export function isoSeconds (d: string | null | undefined): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d ?? '')
  if (m === null) return 0
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0)
}

interface Segment { src: string, srcType: CallControlDnType, dst: string, dstType: CallControlDnType, start: number, ringS: number, talkS: number, answered: boolean, transferred: boolean }

function segmentOf (r: CallLogRow): Segment | null {
  const start = Date.parse(r.StartTime ?? '')
  if (Number.isNaN(start)) return null
  return {
    src: r.SourceDn ?? '',
    srcType: DN_TYPES[r.SourceType ?? -1] ?? 'None',
    dst: r.DestinationDn ?? '',
    dstType: DN_TYPES[r.DestinationType ?? -1] ?? 'None',
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
    if (last !== undefined && last.user === user) {
      last.talkSeconds += s.talkS
      last.endedAt = Math.max(last.endedAt, answeredAt + s.talkS * 1000)
    } else {
      const trtype: TransferType = last === undefined ? 'NotDef' : consulted.has(user) ? 'Accomp' : lastTransferred ? 'Blind' : 'NotDef'
      conversations.push({ user, answeredAt, endedAt: answeredAt + s.talkS * 1000, talkSeconds: s.talkS, trtype })
    }
    lastTransferred = s.transferred
  }
  return { callid, conversations, waitedIn, endedAt }
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
