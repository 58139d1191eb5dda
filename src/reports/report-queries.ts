// The XAPI requests behind each report, as pure functions of validated parameters (3cx-v20.md §3.3,
// §4.9–§4.11). Report functions get every parameter of their template (3CX answers 404 otherwise):
// date-times bare, strings quoted, `waitInterval` as '0:00:30'. Filters 3CX documents no codes for
// (sourceType, callsType, …) stay at 0 = all, and the gateway filters with `$filter` instead.
import { and, eq, functionCall, or, waitInterval, type ODataQuery } from '../pbx/odata.js'
import { callLogRequest, type XapiListRequest } from '../pbx/call-log-query.js'
import type { ReportKind } from './report-kinds.js'
import type { ReportRange } from './report-range.js'

export interface ReportFilters {
  /** history, calllog, recordings: the extension as source or destination. */
  ext?: string
  /** calllog: only answered (true) or unanswered (false) calls. */
  answered?: boolean
  /** abandoned, queueperf: queue numbers (required there). */
  queues?: readonly string[]
  /** abandoned, queueperf: the wait threshold in seconds (default 0). */
  waitSeconds?: number
}

/** One page of a report: `$top`/`$skip`, and `$count=true` when the caller needs the total. */
export interface ReportPage { top: number, skip: number, count?: boolean }


function paging (page: ReportPage): ODataQuery {
  return { top: page.top, skip: page.skip, ...(page.count === true ? { count: true } : {}) }
}

/** `SrcDn eq '101' or DstDn eq '101'`, or undefined without an extension. */
function eitherSide (ext: string | undefined, sideA: string, sideB: string): string | undefined {
  return ext === undefined ? undefined : or(eq(sideA, ext), eq(sideB, ext))
}

/** `Field ge <from>`, `Field lt <to>`: the half-open range as two OData clauses. */
function within (field: string, range: ReportRange): [string, string] {
  return [`${field} ge ${isoInstant(range.from)}`, `${field} lt ${isoInstant(range.to)}`]
}

/** Bare ISO date-time, keeping milliseconds only when a caller gave them. */
function isoInstant (d: Date): string {
  return d.toISOString().replace('.000Z', 'Z')
}

/**
 * A plain entity set read by time: `GET /<set>?$filter=<time> ge … and <time> lt … [and (<a> eq 'x' or <b> eq 'x')]`,
 * oldest first with a unique tie-breaker so pages never overlap.
 */
function entitySetQuery (set: string, time: string, sides: [string, string], tieBreaker: string, range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return {
    path: set,
    query: {
      filter: and(...within(time, range), eitherSide(filters.ext, ...sides)),
      orderby: [`${time} asc`, `${tieBreaker} asc`],
      ...paging(page)
    }
  }
}

/** `GET /CallHistoryView?$filter=SegmentStartTime ge … and (SrcDn eq '101' or DstDn eq '101')&$orderby=…`. */
export function callHistoryQuery (range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return entitySetQuery('CallHistoryView', 'SegmentStartTime', ['SrcDn', 'DstDn'], 'SegmentId', range, filters, page)
}

/** `GET /ReportCallLogData/Pbx.GetCallLogData(periodFrom=…,…,hidePcalls=true)`, ext and answered as `$filter`. */
export function callLogQuery (range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return callLogRequest(range, {
    filter: and(
      eitherSide(filters.ext, 'SourceDn', 'DestinationDn'),
      filters.answered === undefined ? undefined : eq('Answered', filters.answered)
    ),
    ...paging(page)
  })
}

/** The four parameters the queue report functions share: `periodFrom,periodTo,queueDns,waitInterval`. */
function queueReportCall (fn: string, range: ReportRange, filters: ReportFilters): string {
  return functionCall(fn, {
    periodFrom: range.from,
    periodTo: range.to,
    queueDns: (filters.queues ?? []).join(','),
    waitInterval: waitInterval(filters.waitSeconds ?? 0)
  })
}

/** `GET /ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData(periodFrom=…,periodTo=…,queueDns='800',waitInterval='0:00:30')`. */
export function abandonedQueueCallsQuery (range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return {
    path: `ReportAbandonedQueueCalls/${queueReportCall('Pbx.GetAbandonedQueueCallsData', range, filters)}`,
    query: paging(page)
  }
}

/** `GET /ReportQueuePerformanceOverview/Pbx.GetQueuePerformanceOverviewData(…)`, same parameters. */
export function queuePerformanceQuery (range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return {
    path: `ReportQueuePerformanceOverview/${queueReportCall('Pbx.GetQueuePerformanceOverviewData', range, filters)}`,
    query: paging(page)
  }
}

/** `GET /Recordings?$filter=StartTime ge … and (FromDn eq '101' or ToDn eq '101')&$orderby=StartTime asc,Id asc`. */
export function recordingsQuery (range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return entitySetQuery('Recordings', 'StartTime', ['FromDn', 'ToDn'], 'Id', range, filters, page)
}

const BUILDERS: Readonly<Record<ReportKind, (range: ReportRange, filters: ReportFilters, page: ReportPage) => XapiListRequest>> = {
  history: callHistoryQuery,
  calllog: callLogQuery,
  abandoned: abandonedQueueCallsQuery,
  queueperf: queuePerformanceQuery,
  recordings: recordingsQuery
}

/** The request for one page of one report over one range. */
export function reportQuery (kind: ReportKind, range: ReportRange, filters: ReportFilters, page: ReportPage): XapiListRequest {
  return BUILDERS[kind](range, filters, page)
}
