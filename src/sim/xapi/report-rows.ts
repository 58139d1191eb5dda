// The report functions the gateway uses, as bound functions over the engine's call records:
// GetCallLogData (one row per segment), GetAbandonedQueueCallsData,
// GetQueuePerformanceOverviewData (the queue callback reports are in queue-callback-rows.ts). Parameters are checked by function-params.ts; rows are pure.
import type { SimCallRecord, SimSegment } from '../sim-types.js'
import { ODataError } from './odata-error.js'
import type { Row } from './odata-filter.js'
import { type ParamSpec, type ParamValue, type ParamValues, parseTimeSpan, wrongType } from './function-params.js'
import { DN_TYPE_CODES, RecordRowCache, SEGMENT_ACTION_CODES, isoDuration } from './call-rows.js'

/** What reports need from the directory that records do not carry. */
export interface ReportDirectory {
  queueName: (dn: string) => string
  extensionName: (dn: string) => string
  isLoggedIn: (dn: string) => boolean
}

export interface ReportFunction {
  /** Entity set and function name as in the path: `ReportCallLogData/Pbx.GetCallLogData(…)`. */
  entitySet: string
  name: string
  typeName: string
  params: ParamSpec
  rows: (records: readonly SimCallRecord[], params: ParamValues, directory: ReportDirectory) => Row[]
}

/** Longer periods answer 504, as a busy PBX does on a huge range (lets the gateway's chunking be tested). */
export const MAX_REPORT_PERIOD_MS = 31 * 24 * 3600 * 1000

const QUEUE_PARAMS: ParamSpec = { periodFrom: 'datetime', periodTo: 'datetime', queueDns: 'string', waitInterval: 'string' }

const CALL_DIRECTION: Readonly<Record<SimCallRecord['kind'], string>> = { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal' }

/** Records that started in [from, to), the window validated (31 days at most). */
export function inWindow (records: readonly SimCallRecord[], fromDate: Date, toDate: Date): SimCallRecord[] {
  const from = fromDate.getTime()
  const to = toDate.getTime()
  if (to - from > MAX_REPORT_PERIOD_MS) throw new ODataError(504, 'GatewayTimeout', 'The report query took too long; choose a period of 31 days or less.')
  return records.filter((r) => {
    const t = r.startedAt.getTime()
    return t >= from && t < to
  })
}

function inPeriod (records: readonly SimCallRecord[], params: ParamValues): SimCallRecord[] {
  return inWindow(records, params.periodFrom as Date, params.periodTo as Date)
}

/** `'800,801'` → ['800','801']; an empty list means every queue. */
export function dnList (value: ParamValue): string[] {
  return typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : []
}

function callLogRow (record: SimCallRecord, segment: SimSegment, index: number): Row {
  const rec = segment.recordingIds[0] ?? null
  const recording = rec === null ? undefined : record.recordings.find((r) => r.Id === rec)
  const duration = segment.endedAt.getTime() - segment.startedAt.getTime()
  return {
    CallId: record.callid,
    CdrId: `cdr-${record.callid}-${segment.segmentId}`,
    CallHistoryId: `${record.callid}-${segment.segmentId}`,
    MainCallHistoryId: String(record.callid),
    SegmentId: segment.segmentId,
    StartTime: segment.startedAt.toISOString(),
    Direction: CALL_DIRECTION[record.kind],
    Status: segment.answered ? 'Answered' : 'Unanswered',
    CallType: CALL_DIRECTION[record.kind],
    Answered: segment.answered,
    Reason: segment.action,
    SourceDn: segment.src.dn,
    SourceCallerId: segment.src.callerNumber,
    SourceDisplayName: segment.src.displayName,
    SourceType: DN_TYPE_CODES[segment.src.kind],
    DestinationDn: segment.dst.dn,
    DestinationCallerId: segment.dst.callerNumber,
    DestinationDisplayName: segment.dst.displayName,
    DestinationType: DN_TYPE_CODES[segment.dst.kind],
    ActionType: SEGMENT_ACTION_CODES[segment.action] ?? 0,
    actionDnDn: null,
    ActionDnType: null,
    ActionDnCallerId: null,
    ActionDnDisplayName: null,
    RingingDuration: isoDuration(Math.max(0, duration - segment.talkMs)),
    TalkingDuration: isoDuration(segment.talkMs),
    RecordingUrl: recording?.relativePath ?? null,
    SrcRecId: null,
    DstRecId: rec,
    Recordings: segment.recordingIds.map((Id) => ({ Id, Transcription: null, Summary: null, SentimentScore: null })),
    CallCost: null,
    QualityReport: false,
    Indent: index === 0 ? 0 : 1,
    SubrowDescNumber: index,
    Transcription: null,
    Summary: null,
    SentimentScore: null
  }
}

const callLogRows = new RecordRowCache<Row>((record) => record.segments.map((s, i) => callLogRow(record, s, i)))

/** `callsType`: 0 all, 1 answered, 2 unanswered (3CX's other codes are undocumented). */
function callLog (records: readonly SimCallRecord[], p: ParamValues): Row[] {
  const from = parseTimeSpan('callTimeFilterFrom', p.callTimeFilterFrom as string)
  const to = parseTimeSpan('callTimeFilterTo', p.callTimeFilterTo as string)
  const source = (p.sourceFilter as string | null) ?? ''
  const destination = (p.destinationFilter as string | null) ?? ''
  const calls = p.callsType as number
  const rows = callLogRows.all(inPeriod(records, p))
  return rows.filter((row) => {
    if (source !== '' && !String(row.SourceDn).includes(source) && !String(row.SourceCallerId).includes(source)) return false
    if (destination !== '' && !String(row.DestinationDn).includes(destination) && !String(row.DestinationCallerId).includes(destination)) return false
    if (calls === 1 && row.Answered !== true) return false
    if (calls === 2 && row.Answered === true) return false
    if (p.callTimeFilterType !== 0) {
      const talk = durationMs(row.TalkingDuration as string)
      if (talk < from || (to > 0 && talk > to)) return false
    }
    return true
  })
}

function durationMs (iso: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso)
  return m === null ? 0 : ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000
}

function queueCalls (records: readonly SimCallRecord[], p: ParamValues): { queues: string[] | null, calls: SimCallRecord[], waitMs: number } {
  if (typeof p.waitInterval !== 'string') throw wrongType("The parameter 'waitInterval' expects a time span such as '0:00:00'.")
  const waitMs = parseTimeSpan('waitInterval', p.waitInterval)
  const wanted = dnList(p.queueDns)
  const queues = wanted.length === 0 ? null : wanted
  const calls = inPeriod(records, p).filter((r) => r.queue !== null && (queues === null || queues.includes(r.queue.dn)))
  return { queues, calls, waitMs }
}

function abandoned (records: readonly SimCallRecord[], p: ParamValues, dir: ReportDirectory): Row[] {
  const { calls, waitMs } = queueCalls(records, p)
  return calls
    .filter((r) => r.queue !== null && r.queue.abandoned && r.queue.waitMs >= waitMs)
    .map((r) => {
      const q = r.queue as NonNullable<SimCallRecord['queue']>
      const lastAgent = q.agentsRung.at(-1) ?? null
      return {
        CallerId: r.from,
        CallHistoryId: String(r.callid),
        CallTime: r.startedAt.toISOString(),
        CallTimeForCsv: r.startedAt.toISOString(),
        ExtensionDn: lastAgent,
        ExtensionDisplayName: lastAgent === null ? null : dir.extensionName(lastAgent),
        IsLoggedIn: lastAgent === null ? null : dir.isLoggedIn(lastAgent),
        PollingAttempts: q.agentsRung.length,
        QueueDn: q.dn,
        QueueDisplayName: dir.queueName(q.dn),
        WaitTime: isoDuration(q.waitMs)
      }
    })
}

/** One row per (queue, agent that was rung or answered), with the queue's totals repeated. */
function queuePerformance (records: readonly SimCallRecord[], p: ParamValues, dir: ReportDirectory): Row[] {
  const { calls } = queueCalls(records, p)
  const byQueue = new Map<string, SimCallRecord[]>()
  for (const call of calls) {
    const dn = (call.queue as NonNullable<SimCallRecord['queue']>).dn
    byQueue.set(dn, [...(byQueue.get(dn) ?? []), call])
  }
  const rows: Row[] = []
  for (const [queueDn, list] of [...byQueue].sort(([a], [b]) => a.localeCompare(b))) {
    const answered = list.filter((c) => c.queue?.answeredBy !== null)
    const agents = [...new Set(list.flatMap((c) => [...(c.queue?.agentsRung ?? []), ...(c.queue?.answeredBy === null || c.queue === null ? [] : [c.queue.answeredBy])]))].sort()
    agents.forEach((agent, i) => {
      const took = list.filter((c) => c.queue?.answeredBy === agent)
      const talkMs = took.reduce((sum, c) => sum + (c.endedAt !== null && c.answeredAt !== null ? c.endedAt.getTime() - c.answeredAt.getTime() : 0), 0)
      rows.push({
        QueueDn: queueDn,
        QueueDisplayName: dir.queueName(queueDn),
        QueueReceivedCount: list.length,
        QueueAnsweredCount: answered.length,
        ExtensionDn: agent,
        ExtensionDisplayName: dir.extensionName(agent),
        ExtensionAnsweredCount: took.length,
        ExtensionDroppedCount: list.filter((c) => c.queue?.agentsRung.includes(agent) === true && c.queue.answeredBy !== agent).length,
        SortOrder: i,
        TalkTime: isoDuration(talkMs)
      })
    })
  }
  return rows
}

export const REPORT_FUNCTIONS: readonly ReportFunction[] = [
  {
    entitySet: 'ReportCallLogData',
    name: 'Pbx.GetCallLogData',
    typeName: 'Pbx.CallLogData',
    params: {
      periodFrom: 'datetime', periodTo: 'datetime', sourceType: 'int', sourceFilter: 'string', destinationType: 'int', destinationFilter: 'string',
      callsType: 'int', callTimeFilterType: 'int', callTimeFilterFrom: 'string', callTimeFilterTo: 'string', hidePcalls: 'bool'
    },
    rows: (records, params) => callLog(records, params)
  },
  { entitySet: 'ReportAbandonedQueueCalls', name: 'Pbx.GetAbandonedQueueCallsData', typeName: 'Pbx.AbandonedQueueCalls', params: QUEUE_PARAMS, rows: abandoned },
  { entitySet: 'ReportQueuePerformanceOverview', name: 'Pbx.GetQueuePerformanceOverviewData', typeName: 'Pbx.QueuePerformanceOverview', params: QUEUE_PARAMS, rows: queuePerformance }
]
