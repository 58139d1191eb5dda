// The PBX's call log as XAPI serves it (`ReportCallLogData/Pbx.GetCallLogData`, 3cx-v20.md §4.10):
// the request every reader builds (the call-log report, the call model ending a call from the PBX's
// record, recovery of calls never seen) and the row as far as the gateway reads it. Its rows carry
// the Call Control `callid` as `CallId`.
import { compare, functionCall, type ODataQuery } from './odata.js'
import type { XapiApi } from './pbx-api.js'

/** A request for `XapiApi.list`: a path relative to /xapi/v1 and its query options. */
export interface XapiListRequest { path: string, query: ODataQuery }

/** `Pbx.CallLogData` as far as the gateway reads it. */
export interface CallLogRow {
  CallId?: number | null
  SegmentId?: number | null
  StartTime?: string | null
  Answered?: boolean | null
  Reason?: string | null
  ActionType?: number | null
  SourceDn?: string | null
  SourceCallerId?: string | null
  SourceDisplayName?: string | null
  SourceType?: number | null
  DestinationDn?: string | null
  DestinationCallerId?: string | null
  DestinationType?: number | null
  RingingDuration?: string | null
  TalkingDuration?: string | null
}

/**
 * `GET /ReportCallLogData/Pbx.GetCallLogData(periodFrom=…,…,hidePcalls=true)`, oldest first unless
 * `query` orders otherwise. The function needs every parameter of its template (3CX answers 404
 * otherwise); filters 3CX documents no codes for stay at 0 = all, and callers filter with `$filter`.
 */
export function callLogRequest (range: { from: Date, to: Date }, query: ODataQuery = {}): XapiListRequest {
  const fn = functionCall('Pbx.GetCallLogData', {
    periodFrom: range.from,
    periodTo: range.to,
    sourceType: 0,
    sourceFilter: '',
    destinationType: 0,
    destinationFilter: '',
    callsType: 0,
    callTimeFilterType: 0,
    callTimeFilterFrom: '0:00:0',
    callTimeFilterTo: '0:00:0',
    hidePcalls: true
  })
  return { path: `ReportCallLogData/${fn}`, query: { orderby: ['StartTime asc'], ...query } }
}

/** The last call the gateway saw: its id, and when it saw it (ms). */
export interface LastCallSeen { callid: number, at: number }

/** Clock difference allowed between the gateway (which dated the call) and the PBX (which logs it). */
export const COUNTER_SKEW_MS = 60_000

/**
 * The call log's calls that began after the gateway saw `last` and yet have an id not above it. On
 * one PBX call ids only grow, so any such call means its counter began again: another PBX, or one
 * reinstalled.
 */
export function counterWentBackRequest (last: LastCallSeen, now: number): XapiListRequest {
  const range = {
    from: new Date(Math.ceil((last.at + COUNTER_SKEW_MS) / 1000) * 1000),
    to: new Date(Math.ceil((now + 60_000) / 1000) * 1000)
  }
  return callLogRequest(range, { filter: compare('CallId', 'le', last.callid), top: 1, skip: 0 })
}

/** Whether the PBX's call counter went backwards since `last` (false while nothing was logged since). */
export async function callLogCounterWentBack (xapi: Pick<XapiApi, 'list'>, last: LastCallSeen, now: number, timeoutMs = 5000): Promise<boolean> {
  if (now - last.at <= COUNTER_SKEW_MS) return false
  const req = counterWentBackRequest(last, now)
  const { value } = await xapi.list<CallLogRow>(req.path, { query: req.query, timeoutMs })
  return value.some((r) => typeof r.CallId === 'number' && r.CallId <= last.callid)
}
