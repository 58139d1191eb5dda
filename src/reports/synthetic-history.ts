// Made-up CallHistoryView rows for the benchmark (bench/): N rows streamed through the same
// normalization and writers as a real export, generated lazily so the measured memory is the
// writers', not the test data's.
import type { Writable } from 'node:stream'
import { REPORTS, type ReportFormat } from './report-kinds.js'
import { normalizeRow, type ReportRow } from './report-rows.js'
import { writeReport } from './report-writers.js'

/** Raw XAPI-shaped history segments, one every 7 s from `start`, with 3CX's 7-digit fractions. */
export function * syntheticHistoryRows (n: number, start = Date.UTC(2026, 10, 1)): Generator<ReportRow> {
  for (let i = 0; i < n; i++) {
    const began = start + i * 7000
    const talk = (i * 37) % 600
    const ext = String(100 + (i % 20))
    const external = i % 3 !== 0
    yield {
      SegmentId: i + 1,
      SegmentStartTime: new Date(began).toISOString().replace('Z', '0000+00:00'),
      SegmentEndTime: new Date(began + talk * 1000).toISOString().replace('Z', '0000+00:00'),
      SegmentType: 2,
      SegmentActionId: talk > 0 ? 1 : 0,
      CallTime: `PT${Math.floor(talk / 60)}M${talk % 60}S`,
      CallAnswered: talk > 0,
      SrcId: i * 2 + 1,
      SrcDn: external ? '10000' : ext,
      SrcDnType: external ? 1 : 0,
      SrcDisplayName: external ? 'Main SIP trunk' : `User ${ext}`,
      SrcExtendedDisplayName: external ? `+1555${String(1_000_000 + i).slice(-7)}` : `User ${ext}`,
      SrcCallerNumber: external ? `+1555${String(1_000_000 + i).slice(-7)}` : ext,
      SrcInternal: !external,
      SrcExternal: external,
      SrcParticipantId: i * 2 + 1,
      SrcRecId: 0,
      DstId: i * 2 + 2,
      DstDn: ext,
      DstDnType: 0,
      DstDisplayName: `User ${ext}, "Sales"`,
      DstExtendedDisplayName: `User ${ext}`,
      DstCallerNumber: ext,
      DstInternal: true,
      DstExternal: false,
      DstParticipantId: i * 2 + 2,
      DstRecId: i % 5 === 0 ? i + 1 : 0
    }
  }
}

/**
 * Streams `n` synthetic history rows as `format` into `out` (which it ends), exactly as
 * `calls.history.get` / `export history` would. Resolves with the number of rows written.
 */
export async function writeSyntheticHistory (n: number, format: ReportFormat, out: Writable): Promise<number> {
  const def = REPORTS.history
  async function * rows (): AsyncGenerator<ReportRow> {
    for (const raw of syntheticHistoryRows(n)) yield normalizeRow(def, raw)
  }
  return await writeReport(def, rows(), format, out)
}
