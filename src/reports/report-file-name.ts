// The file name a download or export gets: what (report, queue or extension) and when (local days).
// `calllog_2026-11-01_2026-11-07.csv`, `abandoned_q800_2026-11-01_2026-11-01.xlsx`.
import type { ReportRequest } from './report-fetch.js'
import { REPORTS, type ReportFormat } from './report-kinds.js'
import { rangeLabel } from './report-range.js'

export function reportFileName (req: ReportRequest, format: ReportFormat, timeZone: string): string {
  const parts = [REPORTS[req.kind].filePrefix]
  if (req.filters.queues !== undefined) parts.push(`q${req.filters.queues.join('-')}`)
  if (req.filters.ext !== undefined) parts.push(`ext${req.filters.ext}`)
  parts.push(rangeLabel(req.range, timeZone))
  // DNs may hold * # +; keep names safe for every file system and header.
  return `${parts.join('_').replace(/[^A-Za-z0-9_.-]/g, '-')}.${format}`
}

/** `attachment; filename="…"`: names are ASCII-safe already, so no RFC 5987 encoding is needed. */
export function contentDisposition (fileName: string): string {
  return `attachment; filename="${fileName}"`
}
