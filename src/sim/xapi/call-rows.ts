// XAPI rows derived from the engine's ground-truth call records: CallHistoryView segments,
// Recordings and ActiveCalls. Pure functions of `SimCallRecord`, plus a per-record cache so that
// paging through 100,000 history rows does not rebuild them on every request.
import type { SimCallRecord, SimDnKind, SimParty, SimRecording, SimSegment } from '../sim-types.js'
import type { Row } from './odata-filter.js'

/**
 * 3CX's integer DN types as history and recordings show them (`SrcDnType`, `FromDnType`). The spec
 * only says int32; these follow the V14–V18 call-log database (0 extension, 1 external line, …).
 */
export const DN_TYPE_CODES: Readonly<Record<SimDnKind, number>> = {
  extension: 0, externalline: 1, ringgroup: 2, queue: 4, ivr: 5, routepoint: 13
}

/** `SegmentActionId`/`ActionType` codes for the engine's free-form segment actions; unknown → 0. */
export const SEGMENT_ACTION_CODES: Readonly<Record<string, number>> = {
  answered: 1, missed: 2, transferred: 5, abandoned: 6, timeout: 7, ivr: 8, queue: 9, replaced: 10
}

/** Milliseconds as an ISO-8601 duration: 65_000 → `PT1M5S`, 0 → `PT0S`. */
export function isoDuration (ms: number): string {
  let seconds = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(seconds / 3600)
  seconds -= h * 3600
  const m = Math.floor(seconds / 60)
  seconds -= m * 60
  const text = `${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${seconds > 0 || (h === 0 && m === 0) ? `${seconds}S` : ''}`
  return `PT${text}`
}

const iso = (d: Date | null): string | null => d === null ? null : d.toISOString()

function side (prefix: 'Src' | 'Dst', party: SimParty, recId: number | null): Row {
  const external = party.kind === 'externalline'
  return {
    [`${prefix}Id`]: party.participantId,
    [`${prefix}Dn`]: party.dn,
    [`${prefix}DnType`]: DN_TYPE_CODES[party.kind],
    [`${prefix}DisplayName`]: party.displayName,
    [`${prefix}ExtendedDisplayName`]: party.displayName === '' ? party.callerNumber : `${party.displayName} (${party.callerNumber})`,
    [`${prefix}CallerNumber`]: party.callerNumber,
    [`${prefix}Internal`]: !external,
    [`${prefix}External`]: external,
    [`${prefix}ParticipantId`]: party.participantId,
    [`${prefix}RecId`]: recId
  }
}

/** The recording on a segment belongs to its extension side (the destination when both are). */
function recordingSides (segment: SimSegment): { src: number | null, dst: number | null } {
  const rec = segment.recordingIds[0] ?? null
  if (rec === null) return { src: null, dst: null }
  return segment.dst.kind === 'extension' || segment.src.kind !== 'extension' ? { src: null, dst: rec } : { src: rec, dst: null }
}

/** One `Pbx.CallHistoryView` row. SegmentType: 1 ringing/waiting, 2 talking. */
export function historyRow (segment: SimSegment): Row {
  const rec = recordingSides(segment)
  return {
    SegmentId: segment.segmentId,
    SegmentStartTime: segment.startedAt.toISOString(),
    SegmentEndTime: segment.endedAt.toISOString(),
    SegmentType: segment.answered ? 2 : 1,
    SegmentActionId: SEGMENT_ACTION_CODES[segment.action] ?? 0,
    CallTime: isoDuration(segment.talkMs),
    CallAnswered: segment.answered,
    ...side('Src', segment.src, rec.src),
    ...side('Dst', segment.dst, rec.dst)
  }
}

function recordingSide (prefix: 'From' | 'To', party: SimParty, did: string): Row {
  return {
    [`${prefix}Dn`]: party.dn,
    [`${prefix}DnType`]: DN_TYPE_CODES[party.kind],
    [`${prefix}DisplayName`]: party.displayName,
    [`${prefix}CallerNumber`]: party.callerNumber,
    [`${prefix}DidNumber`]: did,
    [`${prefix}CrmContact`]: null,
    [`${prefix}IdParticipant`]: party.participantId
  }
}

/** One `Pbx.Recording` row. `RecordingUrl` is the path under the recordings root, as 3CX shows it. */
export function recordingRow (rec: SimRecording, record: Pick<SimCallRecord, 'kind' | 'did'>): Row {
  const inboundDid = record.kind === 'inbound' ? record.did : ''
  return {
    Id: rec.Id,
    StartTime: rec.StartTime.toISOString(),
    EndTime: rec.EndTime.toISOString(),
    RecordingUrl: rec.relativePath,
    ArchivedUrl: null,
    IsArchived: false,
    RefParticipantId: rec.refParticipantId,
    CallType: rec.CallType,
    ...recordingSide('From', rec.from, inboundDid),
    ...recordingSide('To', rec.to, ''),
    Transcription: null,
    Summary: null,
    SentimentScore: null,
    IsTranscribed: false,
    CanBeTranscribed: false,
    TranscriptionResult: null
  }
}

/** One `Pbx.ActiveCall` row for a call still ringing or talking. */
export function activeCallRow (record: SimCallRecord, now: Date): Row {
  const lastDst = record.segments.at(-1)?.dst.dn
  return {
    Id: record.callid,
    Caller: record.from,
    Callee: record.answeredBy ?? lastDst ?? record.to,
    Status: record.status === 'talking' ? 'Talking' : 'Ringing',
    EstablishedAt: record.startedAt.toISOString(),
    LastChangeStatus: iso(record.answeredAt) ?? record.startedAt.toISOString(),
    ServerNow: now.toISOString()
  }
}

/**
 * Per-record memo of derived rows for ended calls (a running call's segments still change in place),
 * invalidated when late recordings arrive.
 */
export class RecordRowCache<T> {
  private readonly memo = new WeakMap<SimCallRecord, { stamp: string, rows: T[] }>()

  constructor (private readonly build: (record: SimCallRecord) => T[]) {}

  rows (record: SimCallRecord): T[] {
    if (record.status !== 'ended') return this.build(record)
    const stamp = `${record.segments.length}|${record.recordings.length}`
    const hit = this.memo.get(record)
    if (hit !== undefined && hit.stamp === stamp) return hit.rows
    const rows = this.build(record)
    this.memo.set(record, { stamp, rows })
    return rows
  }

  /** Every record's rows, in record order. */
  all (records: readonly SimCallRecord[]): T[] {
    const out: T[] = []
    for (const record of records) {
      for (const row of this.rows(record)) out.push(row)
    }
    return out
  }
}

export const historyRows = new RecordRowCache<Row>((record) => record.segments.map(historyRow))
export const recordingRows = new RecordRowCache<Row>((record) => record.recordings.map((rec) => recordingRow(rec, record)))
