// The five exportable reports: their API method and CLI names, file-name prefix, and the columns
// CSV/XLSX write (XAPI's field names, in a readable order, with a `…Seconds` column after every
// duration). JSON rows carry every field the PBX sent; the columns only fix the spreadsheet layout.

export const REPORT_KINDS = ['history', 'calllog', 'abandoned', 'queueperf', 'recordings'] as const
export type ReportKind = typeof REPORT_KINDS[number]

export const REPORT_FORMATS = ['json', 'csv', 'xlsx'] as const
export type ReportFormat = typeof REPORT_FORMATS[number]

/**
 * How a column is typed in XLSX: `datetime` (ISO text → date cell), `duration` (XAPI's ISO duration
 * → `h:mm:ss` time cell), `seconds`/`number` (number cell), `boolean`, `json` (objects and arrays as
 * JSON text) or `text`.
 */
export type ColumnType = 'text' | 'number' | 'boolean' | 'datetime' | 'duration' | 'seconds' | 'json'

export interface ReportColumn { name: string, type: ColumnType }

export interface ReportDefinition {
  kind: ReportKind
  /** The gateway API method (legacy-api.md §3.6). */
  method: string
  /** Start of the download's file name: `calllog_2026-11-01_2026-11-07.csv`. */
  filePrefix: string
  /** What the rows are, for help texts and logs. */
  title: string
  columns: readonly ReportColumn[]
  /** Filters this report takes besides from/to/top/skip/format. */
  params: ReadonlyArray<'ext' | 'answered' | 'queue' | 'wait'>
}

/** The suffix of the seconds column the gateway adds next to each XAPI duration. */
export const SECONDS_SUFFIX = 'Seconds'

const cols = (type: ColumnType, ...names: string[]): ReportColumn[] => names.map((name) => ({ name, type }))
/** A duration column and its seconds twin. */
const duration = (name: string): ReportColumn[] => [{ name, type: 'duration' }, { name: `${name}${SECONDS_SUFFIX}`, type: 'seconds' }]
/** `Src`/`Dst` (or `From`/`To`) party columns of CallHistoryView and Recordings. */
const historyParty = (p: 'Src' | 'Dst'): ReportColumn[] => [
  ...cols('number', `${p}Id`),
  ...cols('text', `${p}Dn`),
  ...cols('number', `${p}DnType`),
  ...cols('text', `${p}DisplayName`, `${p}ExtendedDisplayName`, `${p}CallerNumber`),
  ...cols('boolean', `${p}Internal`, `${p}External`),
  ...cols('number', `${p}ParticipantId`, `${p}RecId`)
]
const recordingParty = (p: 'From' | 'To'): ReportColumn[] => [
  ...cols('text', `${p}Dn`),
  ...cols('number', `${p}DnType`),
  ...cols('text', `${p}DisplayName`, `${p}CallerNumber`, `${p}DidNumber`, `${p}CrmContact`),
  ...cols('number', `${p}IdParticipant`)
]

export const REPORTS: Readonly<Record<ReportKind, ReportDefinition>> = {
  history: {
    kind: 'history',
    method: 'calls.history.get',
    filePrefix: 'callhistory',
    title: 'call history segments (XAPI CallHistoryView)',
    params: ['ext'],
    columns: [
      ...cols('number', 'SegmentId'),
      ...cols('datetime', 'SegmentStartTime', 'SegmentEndTime'),
      ...cols('number', 'SegmentType', 'SegmentActionId'),
      ...duration('CallTime'),
      ...cols('boolean', 'CallAnswered'),
      ...historyParty('Src'),
      ...historyParty('Dst')
    ]
  },
  calllog: {
    kind: 'calllog',
    method: 'report.calllog.get',
    filePrefix: 'calllog',
    title: 'call log report (XAPI ReportCallLogData/Pbx.GetCallLogData)',
    params: ['ext', 'answered'],
    columns: [
      ...cols('number', 'CallId'),
      ...cols('text', 'CdrId', 'CallHistoryId', 'MainCallHistoryId'),
      ...cols('number', 'SegmentId', 'Indent'),
      ...cols('datetime', 'StartTime'),
      ...cols('text', 'Direction', 'Status', 'CallType'),
      ...cols('boolean', 'Answered'),
      ...cols('text', 'Reason'),
      ...cols('number', 'SourceType'),
      ...cols('text', 'SourceDn', 'SourceCallerId', 'SourceDisplayName'),
      ...cols('number', 'DestinationType'),
      ...cols('text', 'DestinationDn', 'DestinationCallerId', 'DestinationDisplayName'),
      ...cols('number', 'ActionType', 'ActionDnType'),
      ...cols('text', 'actionDnDn', 'ActionDnCallerId', 'ActionDnDisplayName'),
      ...duration('RingingDuration'),
      ...duration('TalkingDuration'),
      ...cols('number', 'CallCost'),
      ...cols('text', 'RecordingUrl'),
      ...cols('number', 'SrcRecId', 'DstRecId'),
      ...cols('json', 'Recordings'),
      ...cols('boolean', 'QualityReport'),
      ...cols('number', 'SentimentScore'),
      ...cols('text', 'Summary', 'Transcription'),
      ...cols('number', 'SubrowDescNumber')
    ]
  },
  abandoned: {
    kind: 'abandoned',
    method: 'report.abandoned.get',
    filePrefix: 'abandoned',
    title: 'abandoned queue calls (XAPI ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData)',
    params: ['queue', 'wait'],
    columns: [
      ...cols('datetime', 'CallTime'),
      ...cols('text', 'QueueDn', 'QueueDisplayName', 'CallerId'),
      ...duration('WaitTime'),
      ...cols('text', 'ExtensionDn', 'ExtensionDisplayName'),
      ...cols('boolean', 'IsLoggedIn'),
      ...cols('number', 'PollingAttempts'),
      ...cols('text', 'CallHistoryId')
    ]
  },
  queueperf: {
    kind: 'queueperf',
    method: 'report.queueperf.get',
    filePrefix: 'queueperformance',
    title: 'queue performance overview (XAPI ReportQueuePerformanceOverview/Pbx.GetQueuePerformanceOverviewData)',
    params: ['queue', 'wait'],
    columns: [
      ...cols('text', 'QueueDn', 'QueueDisplayName', 'ExtensionDn', 'ExtensionDisplayName'),
      ...cols('number', 'QueueReceivedCount', 'QueueAnsweredCount', 'ExtensionAnsweredCount', 'ExtensionDroppedCount'),
      ...duration('TalkTime'),
      ...cols('number', 'SortOrder')
    ]
  },
  recordings: {
    kind: 'recordings',
    method: 'recordings.list.get',
    filePrefix: 'recordings',
    title: 'call recordings (XAPI Recordings)',
    params: ['ext'],
    columns: [
      ...cols('number', 'Id'),
      ...cols('datetime', 'StartTime', 'EndTime'),
      ...cols('text', 'CallType'),
      ...recordingParty('From'),
      ...recordingParty('To'),
      ...cols('number', 'RefParticipantId'),
      ...cols('text', 'RecordingUrl'),
      ...cols('boolean', 'IsArchived'),
      ...cols('text', 'ArchivedUrl'),
      ...cols('boolean', 'IsTranscribed', 'CanBeTranscribed'),
      ...cols('text', 'Transcription', 'Summary'),
      ...cols('number', 'SentimentScore', 'TranscriptionResult'),
      // The gateway's own: the MP3 link from its recordings index (mp3-links.ts).
      ...cols('text', 'Mp3Url')
    ]
  }
}

/** The report a CLI name (`calllog`) or API method (`report.calllog.get`) stands for. */
export function reportByName (name: string): ReportDefinition | null {
  const lower = name.toLowerCase()
  return Object.values(REPORTS).find((r) => r.kind === lower || r.method === lower) ?? null
}
