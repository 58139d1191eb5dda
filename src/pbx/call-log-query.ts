// The PBX's call log as XAPI serves it (`ReportCallLogData/Pbx.GetCallLogData`, 3cx-v20.md §4.10):
// the request every reader builds (the call-log report, the call model ending a call from the PBX's
// record, recovery of calls never seen) and the row as far as the gateway reads it. Its rows carry
// the Call Control `callid` as `CallId`.
import { functionCall, type ODataQuery } from './odata.js'

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
