// Reads report output back for the tests: a strict RFC 4180 CSV parser (CRLF records, quoted
// fields with doubled quotes) and an XLSX reader built on exceljs.
import { Writable } from 'node:stream'
import ExcelJS from 'exceljs'

/** Parses RFC 4180 text; throws on anything that is not (a bare LF, a stray quote). */
export function parseCsv (text: string): string[][] {
  const records: string[][] = []
  let field = ''
  let record: string[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"' && field === '') {
      const end = readQuoted(text, i)
      field = end.value
      i = end.next
      if (i < text.length && text[i] !== ',' && text[i] !== '\r') throw new Error(`text after a closing quote at ${i}`)
      continue
    }
    if (c === ',') { record.push(field); field = ''; i++; continue }
    if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CR without LF at ${i}`)
      record.push(field)
      records.push(record)
      record = []
      field = ''
      i += 2
      continue
    }
    if (c === '\n') throw new Error(`bare LF at ${i}`)
    if (c === '"') throw new Error(`stray quote at ${i}`)
    field += c
    i++
  }
  if (field !== '' || record.length > 0) { record.push(field); records.push(record) }
  return records
}

function readQuoted (text: string, start: number): { value: string, next: number } {
  let value = ''
  let i = start + 1
  for (;;) {
    if (i >= text.length) throw new Error('unterminated quote')
    if (text[i] === '"') {
      if (text[i + 1] === '"') { value += '"'; i += 2; continue }
      return { value, next: i + 1 }
    }
    value += text[i++]
  }
}

/** CSV records as objects keyed by the header row. */
export function csvObjects (text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text)
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])))
}

export interface XlsxSheet {
  name: string
  header: string[]
  /** Cell values as exceljs reads them (Date, number, boolean, string, null). */
  rows: Array<Record<string, unknown>>
  numFmt: (column: string) => string | undefined
}

/** The first sheet of an XLSX file. */
export async function readXlsx (data: Buffer): Promise<XlsxSheet> {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(data as unknown as ArrayBuffer)
  const ws = wb.worksheets[0]
  const header = (ws.getRow(1).values as unknown[]).slice(1).map(String)
  const rows: Array<Record<string, unknown>> = []
  ws.eachRow((row, n) => {
    if (n === 1) return
    rows.push(Object.fromEntries(header.map((h, i) => [h, row.getCell(i + 1).value ?? null])))
  })
  const numFmt = (column: string): string | undefined => {
    const i = header.indexOf(column)
    return i < 0 ? undefined : ws.getRow(2).getCell(i + 1).numFmt
  }
  return { name: ws.name, header, rows, numFmt }
}

/** A Writable that keeps what it gets, for writer tests. */
export function collector (): { stream: Writable, bytes: () => Buffer } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) { chunks.push(Buffer.from(chunk)); cb() }
  })
  return { stream, bytes: () => Buffer.concat(chunks) }
}
