// Fetches a report's rows from the PBX as an async generator: the range split into chunks of at most
// `maxRangeDays` (3CX answers 504 to large ranges), each chunk read in pages of `pageSize`, rows
// yielded as they arrive so an export of 100,000 rows never holds more than a page. `top`/`skip`
// apply to the merged result; within a single chunk they reach the PBX as `$top`/`$skip`.
import type { XapiApi } from '../pbx/pbx-api.js'
import { REPORTS, type ReportKind } from './report-kinds.js'
import { reportQuery, type ReportFilters } from './report-queries.js'
import { splitRange, type ReportRange } from './report-range.js'
import { normalizeRow, type ReportRow } from './report-rows.js'
import { mergeQueuePerformance } from './queue-performance-merge.js'

/** A validated report request (see report-params.ts). */
export interface ReportRequest {
  kind: ReportKind
  range: ReportRange
  filters: ReportFilters
  /** At most this many rows (absent: all). */
  top?: number
  /** Leave out this many rows first. */
  skip?: number
}

export interface ReportProgress {
  /** 1-based index of the chunk being read, and how many there are. */
  chunk: number
  chunks: number
  /** Rows yielded so far. */
  rows: number
}

export interface ReportFetchOptions {
  maxRangeDays: number
  pageSize: number
  signal?: AbortSignal
  /** Called after every page, for progress bars. */
  onProgress?: (p: ReportProgress) => void
}

/** The report's rows, normalized (UTC times, `…Seconds` next to durations), in the PBX's order. */
export async function * reportRows (xapi: XapiApi, req: ReportRequest, opts: ReportFetchOptions): AsyncGenerator<ReportRow> {
  const def = REPORTS[req.kind]
  const chunks = splitRange(req.range, opts.maxRangeDays)
  if (req.kind === 'queueperf' && chunks.length > 1) {
    // Per-agent totals: one row per queue and agent, so chunks are summed, then paged here.
    const perChunk: ReportRow[][] = []
    for (const [i, chunk] of chunks.entries()) {
      const rows: ReportRow[] = []
      for await (const row of chunkRows(xapi, req, chunk, { skip: 0, remaining: Infinity }, opts)) rows.push(row)
      perChunk.push(rows)
      opts.onProgress?.({ chunk: i + 1, chunks: chunks.length, rows: 0 })
    }
    const merged = mergeQueuePerformance(perChunk)
    const start = req.skip ?? 0
    yield * merged.slice(start, req.top === undefined ? undefined : start + req.top).map((r) => normalizeRow(def, r))
    return
  }
  const window = { skip: req.skip ?? 0, remaining: req.top ?? Infinity }
  let yielded = 0
  for (const [i, chunk] of chunks.entries()) {
    if (window.remaining <= 0) break
    const countSkipped = i < chunks.length - 1
    for await (const row of chunkRows(xapi, req, chunk, window, { ...opts, countSkipped, onPage: () => opts.onProgress?.({ chunk: i + 1, chunks: chunks.length, rows: yielded }) })) {
      yielded++
      yield normalizeRow(def, row)
    }
  }
}

/** What is left of the caller's `skip`/`top` as chunks go by. */
interface Window { skip: number, remaining: number }

interface ChunkOptions extends ReportFetchOptions {
  /** Ask `$count` when skipping, so rows skipped in this chunk come off the window's skip. */
  countSkipped?: boolean
  onPage?: () => void
}

/** The raw rows of one chunk, page by page, honouring and updating the window. */
async function * chunkRows (xapi: XapiApi, req: ReportRequest, chunk: ReportRange, window: Window, opts: ChunkOptions): AsyncGenerator<ReportRow> {
  let offset = window.skip
  let first = true
  while (window.remaining > 0) {
    const top = Math.min(opts.pageSize, window.remaining)
    const count = first && window.skip > 0 && opts.countSkipped === true
    const { path, query } = reportQuery(req.kind, chunk, req.filters, { top, skip: offset, count })
    const page = await xapi.list<ReportRow>(path, { query, signal: opts.signal })
    if (first && window.skip > 0) {
      // Without a count, a non-empty page proves the skip ended inside this chunk; an empty one
      // cannot tell, so the rest of the skip is dropped rather than guessed.
      const total = page.count ?? offset + page.value.length
      window.skip -= Math.min(window.skip, total)
    }
    first = false
    opts.onPage?.()
    for (const row of page.value) {
      if (window.remaining <= 0) return
      window.remaining--
      yield row
    }
    offset += page.value.length
    if (page.value.length < top) return
  }
}

/**
 * Starts a report and waits for its first page, so a PBX refusal (403, 404, 504, unreachable)
 * surfaces before a response or file is begun; the rest streams as the result is read.
 */
export async function openReport (xapi: XapiApi, req: ReportRequest, opts: ReportFetchOptions): Promise<AsyncGenerator<ReportRow>> {
  const rows = reportRows(xapi, req, opts)
  const first = await rows.next()
  return (async function * () {
    if (first.done === true) return
    yield first.value
    yield * rows
  })()
}
