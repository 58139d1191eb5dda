// Streams report rows into JSON, CSV (RFC 4180, csv-stringify) or XLSX (exceljs' streaming
// WorkbookWriter) with backpressure, so memory stays flat however many rows come. JSON is
// `{"rows":[…],"count":n}`: the count goes last because it is only known once every row is out.
import { once } from 'node:events'
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { stringify } from 'csv-stringify'
// Types only at load time: exceljs (~25 MB resident) is imported when an XLSX export runs.
import type ExcelJS from 'exceljs'
import type { ReportColumn, ReportDefinition, ReportFormat } from './report-kinds.js'
import { durationSeconds, type ReportRow } from './report-rows.js'

export const CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
}

/** Writes every row to `out` in `format` and ends it. Resolves with the number of rows written. */
export async function writeReport (def: ReportDefinition, rows: AsyncIterable<ReportRow>, format: ReportFormat, out: Writable): Promise<number> {
  const counted = countRows(rows)
  if (format === 'json') await pipeline(Readable.from(jsonText(counted)), out)
  else if (format === 'csv') await pipeline(Readable.from(counted.rows), csvStringifier(def.columns), out)
  else await writeXlsx(def, counted.rows, out)
  return counted.count
}

interface CountedRows { rows: AsyncIterable<ReportRow>, readonly count: number }

function countRows (source: AsyncIterable<ReportRow>): CountedRows {
  const counter = { count: 0 }
  async function * rows (): AsyncGenerator<ReportRow> {
    for await (const row of source) {
      counter.count++
      yield row
    }
  }
  return { rows: rows(), get count () { return counter.count } }
}

/** JSON text in chunks of about 64 KiB. */
async function * jsonText (counted: CountedRows): AsyncGenerator<string> {
  let buffer = '{"rows":['
  let first = true
  for await (const row of counted.rows) {
    buffer += (first ? '' : ',') + JSON.stringify(row)
    first = false
    if (buffer.length >= 65_536) {
      yield buffer
      buffer = ''
    }
  }
  yield `${buffer}],"count":${counted.count}}`
}

/** A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/
/** A plain number (`+15551234`, `-3`, `2.5`): a spreadsheet shows it as a number, never runs it. */
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/

/**
 * A text cell as it may go into CSV: one that a spreadsheet would run as a formula gets a leading
 * `'` (shown as text, never evaluated). Plain numbers such as phone numbers are left as they are.
 */
export function neutralizeCsvCell (value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value
}

/** RFC 4180: header row, CRLF, quotes only where needed; booleans as true/false, objects as JSON. */
function csvStringifier (columns: readonly ReportColumn[]): ReturnType<typeof stringify> {
  return stringify({
    header: true,
    columns: columns.map((c) => ({ key: c.name, header: c.name })),
    record_delimiter: 'windows',
    // csv-stringify quotes LF but not a lone CR, which readers take as a line end.
    quoted_match: /\r/,
    cast: {
      boolean: (v) => (v ? 'true' : 'false'),
      string: neutralizeCsvCell,
      object: (v) => neutralizeCsvCell(JSON.stringify(v))
    }
  })
}

const XLSX_FORMATS: Partial<Record<ReportColumn['type'], string>> = {
  datetime: 'yyyy-mm-dd hh:mm:ss',
  duration: '[h]:mm:ss',
  seconds: '0.###'
}

/** One cell's typed value: dates as dates (UTC), durations as Excel time (days), seconds as numbers. */
function xlsxCell (type: ReportColumn['type'], value: unknown): ExcelJS.CellValue {
  if (value === null || value === undefined || value === '') return null
  switch (type) {
    case 'datetime': {
      const t = typeof value === 'string' ? Date.parse(value) : NaN
      return Number.isNaN(t) ? String(value) : new Date(t)
    }
    case 'duration': {
      const s = durationSeconds(value)
      return s === null ? String(value) : s / 86_400
    }
    case 'json':
      return JSON.stringify(value)
    default:
      return typeof value === 'object' ? JSON.stringify(value) : value as ExcelJS.CellValue
  }
}

/** Resolves when `stream` wants more data, or when `out` closes (a client that went away). */
async function drainOrClose (stream: Writable, out: Writable): Promise<void> {
  const ac = new AbortController()
  try {
    await Promise.race([once(stream, 'drain', { signal: ac.signal }), once(out, 'close', { signal: ac.signal })])
  } finally {
    ac.abort()
  }
}

/**
 * The zip entry stream exceljs pipes a streamed sheet into (its StreamBuf keeps its consumers in
 * `pipes`), when it is waiting for a 'drain'. The entry is an old readable-stream PassThrough
 * without `writableNeedDrain`, hence `_writableState`. If a future exceljs changes this, only the
 * backpressure is lost.
 */
function congestedZipEntry (sheet: ExcelJS.Worksheet): Writable | null {
  const pipes = (sheet as unknown as { stream?: { pipes?: unknown } }).stream?.pipes
  const entry = (Array.isArray(pipes) ? pipes[0] : undefined) as (Writable & { _writableState?: { needDrain?: boolean } }) | undefined
  if (entry === undefined || typeof entry.once !== 'function') return null
  return entry.writableNeedDrain === true || entry._writableState?.needDrain === true ? entry : null
}

async function writeXlsx (def: ReportDefinition, rows: AsyncIterable<ReportRow>, out: Writable): Promise<void> {
  const { default: excel } = await import('exceljs')
  const workbook = new excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false })
  const sheet = workbook.addWorksheet(def.filePrefix, { views: [{ state: 'frozen', ySplit: 1 }] })
  sheet.columns = def.columns.map((c) => ({
    header: c.name,
    key: c.name,
    width: Math.max(12, c.name.length + 2, c.type === 'datetime' ? 20 : 0),
    style: XLSX_FORMATS[c.type] === undefined ? {} : { numFmt: XLSX_FORMATS[c.type] }
  }))
  sheet.getRow(1).font = { bold: true }
  for await (const row of rows) {
    sheet.addRow(def.columns.map((c) => xlsxCell(c.type, row[c.name]))).commit()
    // exceljs writes into the zip without waiting for it; wait here, so neither a slow deflate
    // nor a slow client makes the rows pile up in memory.
    const zipEntry = congestedZipEntry(sheet)
    if (zipEntry !== null) await drainOrClose(zipEntry, out)
    if (out.writableNeedDrain) await drainOrClose(out, out)
    if (out.destroyed) throw new Error('the XLSX output was closed before the report was complete')
  }
  sheet.commit()
  await workbook.commit()
}
