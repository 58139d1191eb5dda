import t from 'tap'
import { queryString } from '../../src/pbx/odata.js'
import { reportQuery, type ReportFilters } from '../../src/reports/report-queries.js'
import type { ReportKind } from '../../src/reports/report-kinds.js'

const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') }

/** The URL as 3CX receives it, decoded for reading. */
function url (kind: ReportKind, filters: ReportFilters = {}, page = { top: 100, skip: 0 }): string {
  const q = reportQuery(kind, range, filters, page)
  return decodeURIComponent(`${q.path}${queryString(q.query)}`)
}

t.test('CallHistoryView: date range and extension as a filter, stable order, paging', async (t) => {
  t.equal(url('history'),
    'CallHistoryView?$filter=(SegmentStartTime ge 2026-11-01T00:00:00Z) and (SegmentStartTime lt 2026-11-08T00:00:00Z)&$orderby=SegmentStartTime asc,SegmentId asc&$top=100&$skip=0')
  t.equal(url('history', { ext: '101' }, { top: 50, skip: 150 }),
    "CallHistoryView?$filter=(SegmentStartTime ge 2026-11-01T00:00:00Z) and (SegmentStartTime lt 2026-11-08T00:00:00Z) and ((SrcDn eq '101') or (DstDn eq '101'))&$orderby=SegmentStartTime asc,SegmentId asc&$top=50&$skip=150")
})

t.test('GetCallLogData: every parameter present, in order, with 3CX literal syntax', async (t) => {
  t.equal(url('calllog'),
    "ReportCallLogData/Pbx.GetCallLogData(periodFrom=2026-11-01T00:00:00Z,periodTo=2026-11-08T00:00:00Z,sourceType=0,sourceFilter='',destinationType=0,destinationFilter='',callsType=0,callTimeFilterType=0,callTimeFilterFrom='0:00:0',callTimeFilterTo='0:00:0',hidePcalls=true)?$orderby=StartTime asc&$top=100&$skip=0")
  t.equal(url('calllog', { ext: '101', answered: false }, { top: 10, skip: 0 }),
    "ReportCallLogData/Pbx.GetCallLogData(periodFrom=2026-11-01T00:00:00Z,periodTo=2026-11-08T00:00:00Z,sourceType=0,sourceFilter='',destinationType=0,destinationFilter='',callsType=0,callTimeFilterType=0,callTimeFilterFrom='0:00:0',callTimeFilterTo='0:00:0',hidePcalls=true)?$filter=((SourceDn eq '101') or (DestinationDn eq '101')) and (Answered eq false)&$orderby=StartTime asc&$top=10&$skip=0")
  const raw = reportQuery('calllog', range, {}, { top: 1, skip: 0 }).path
  t.notOk(/[ ]/.test(raw), 'the path segment is ready for a URL (no raw spaces)')
})

t.test('queue reports: queueDns quoted and comma-joined, waitInterval as h:mm:ss', async (t) => {
  t.equal(url('abandoned', { queues: ['800'], waitSeconds: 30 }),
    "ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData(periodFrom=2026-11-01T00:00:00Z,periodTo=2026-11-08T00:00:00Z,queueDns='800',waitInterval='0:00:30')?$top=100&$skip=0")
  t.equal(url('queueperf', { queues: ['800', '801'], waitSeconds: 3725 }, { top: 100, skip: 0 }),
    "ReportQueuePerformanceOverview/Pbx.GetQueuePerformanceOverviewData(periodFrom=2026-11-01T00:00:00Z,periodTo=2026-11-08T00:00:00Z,queueDns='800,801',waitInterval='1:02:05')?$top=100&$skip=0")
  t.match(url('abandoned', { queues: ['800'] }), /waitInterval='0:00:00'/, 'default wait is 0')
})

t.test('Recordings: range, either side, oldest first; $count only when asked', async (t) => {
  t.equal(url('recordings', { ext: '102' }, { top: 100, skip: 0 }),
    "Recordings?$filter=(StartTime ge 2026-11-01T00:00:00Z) and (StartTime lt 2026-11-08T00:00:00Z) and ((FromDn eq '102') or (ToDn eq '102'))&$orderby=StartTime asc,Id asc&$top=100&$skip=0")
  t.match(decodeURIComponent(queryString(reportQuery('recordings', range, {}, { top: 5, skip: 5, count: true }).query)), /\$count=true$/)
})

t.test('values that could change a query stay literals', async (t) => {
  const q = reportQuery('history', range, { ext: "1' or 1 eq 1 or SrcDn eq '" }, { top: 1, skip: 0 })
  t.match(q.query.filter ?? '', /SrcDn eq '1'' or 1 eq 1 or SrcDn eq '''/, 'quotes are doubled')
  const fn = reportQuery('abandoned', range, { queues: ["8'00)"] }, { top: 1, skip: 0 }).path
  t.match(fn, /queueDns='8''00\)',waitInterval=/, 'quote doubled: the parenthesis stays inside the string literal')
})
