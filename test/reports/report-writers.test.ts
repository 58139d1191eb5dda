import t from 'tap'
import { PassThrough } from 'node:stream'
import { writeReport } from '../../src/reports/report-writers.js'
import { REPORTS } from '../../src/reports/report-kinds.js'
import { normalizeRow, type ReportRow } from '../../src/reports/report-rows.js'
import { syntheticHistoryRows, writeSyntheticHistory } from '../../src/reports/synthetic-history.js'
import { collector, csvObjects, parseCsv, readXlsx } from './report-readers.js'

async function * rowsOf (list: ReportRow[]): AsyncGenerator<ReportRow> { yield * list }

const callLogRows = [
  {
    CallId: 1,
    StartTime: '2026-11-01T08:00:00.0000000+01:00',
    SourceDn: '10000',
    SourceDisplayName: 'Smith, "Bob"\nline two',
    DestinationDn: '101',
    Answered: true,
    RingingDuration: 'PT12S',
    TalkingDuration: 'PT1H1M5S',
    Recordings: [{ Id: 4 }],
    CallCost: null
  },
  { CallId: 2, StartTime: '2026-11-01T09:30:00Z', SourceDn: '102', DestinationDn: '103', Answered: false, RingingDuration: 'PT30S', TalkingDuration: 'PT0S' }
].map((r) => normalizeRow(REPORTS.calllog, r))

t.test('JSON: rows then count, valid JSON', async (t) => {
  const out = collector()
  const n = await writeReport(REPORTS.calllog, rowsOf(callLogRows), 'json', out.stream)
  t.equal(n, 2)
  const body = JSON.parse(out.bytes().toString('utf8')) as { rows: ReportRow[], count: number }
  t.equal(body.count, 2)
  t.same(body.rows, callLogRows)
  const empty = collector()
  t.equal(await writeReport(REPORTS.calllog, rowsOf([]), 'json', empty.stream), 0)
  t.same(JSON.parse(empty.bytes().toString('utf8')), { rows: [], count: 0 })
})

t.test('CSV: RFC 4180 with a header row of every column, quotes and line breaks escaped', async (t) => {
  const out = collector()
  t.equal(await writeReport(REPORTS.calllog, rowsOf(callLogRows), 'csv', out.stream), 2)
  const text = out.bytes().toString('utf8')
  const records = parseCsv(text)
  t.same(records[0], REPORTS.calllog.columns.map((c) => c.name), 'header = the defined columns')
  t.ok(records.every((r) => r.length === records[0].length), 'every record has every column')
  const [first, second] = csvObjects(text)
  t.equal(first.SourceDisplayName, 'Smith, "Bob"\nline two')
  t.equal(first.StartTime, '2026-11-01T07:00:00Z')
  t.equal(first.Answered, 'true')
  t.equal(second.Answered, 'false')
  t.equal(first.TalkingDuration, 'PT1H1M5S')
  t.equal(first.TalkingDurationSeconds, '3665')
  t.equal(first.Recordings, '[{"Id":4}]', 'arrays as JSON')
  t.equal(first.CallCost, '', 'null is empty')
  t.equal(second.Recordings, '', 'missing field is empty')
  const empty = collector()
  await writeReport(REPORTS.calllog, rowsOf([]), 'csv', empty.stream)
  t.equal(parseCsv(empty.bytes().toString('utf8')).length, 1, 'no rows: the header alone')
})

t.test('XLSX: typed columns — dates as dates, durations as h:mm:ss and seconds', async (t) => {
  const out = collector()
  t.equal(await writeReport(REPORTS.calllog, rowsOf(callLogRows), 'xlsx', out.stream), 2)
  const sheet = await readXlsx(out.bytes())
  t.same(sheet.header, REPORTS.calllog.columns.map((c) => c.name))
  t.equal(sheet.rows.length, 2)
  const [first, second] = sheet.rows
  t.ok(first.StartTime instanceof Date, 'a date cell')
  t.equal((first.StartTime as Date).toISOString(), '2026-11-01T07:00:00.000Z')
  t.equal(sheet.numFmt('StartTime'), 'yyyy-mm-dd hh:mm:ss')
  // exceljs reads a number with a time format back as a date on Excel's epoch (1899-12-30).
  const talk = first.TalkingDuration
  t.equal(talk instanceof Date ? (talk.getTime() - Date.UTC(1899, 11, 30)) / 1000 : talk, 3665, 'an Excel time of 1:01:05')
  t.equal(sheet.numFmt('TalkingDuration'), '[h]:mm:ss')
  t.equal(first.TalkingDurationSeconds, 3665)
  t.equal(first.Answered, true)
  t.equal(second.Answered, false)
  t.equal(first.CallId, 1)
  t.equal(first.SourceDisplayName, 'Smith, "Bob"\nline two')
  t.equal(first.Recordings, '[{"Id":4}]')
  t.equal(first.CallCost, null)
})

t.test('synthetic history for the benchmark: N rows in every format', async (t) => {
  t.equal([...syntheticHistoryRows(3)].length, 3)
  const csv = collector()
  t.equal(await writeSyntheticHistory(2500, 'csv', csv.stream), 2500)
  const records = parseCsv(csv.bytes().toString('utf8'))
  t.equal(records.length, 2501)
  const xlsx = collector()
  t.equal(await writeSyntheticHistory(300, 'xlsx', xlsx.stream), 300)
  const sheet = await readXlsx(xlsx.bytes())
  t.equal(sheet.rows.length, 300)
  t.equal(sheet.rows[299].SegmentId, 300)
  t.equal((sheet.rows[1].SegmentStartTime as Date).toISOString(), '2026-11-01T00:00:07.000Z')
})

t.test('XLSX waits for a slow reader instead of buffering, and stops when the reader goes away', async (t) => {
  // A reader that takes nothing: the writer must pause (not finish), then fail once it is destroyed.
  const stalled = new PassThrough({ highWaterMark: 1024 })
  let produced = 0
  async function * many (): AsyncGenerator<ReportRow> {
    for (const raw of syntheticHistoryRows(50_000)) {
      produced++
      yield normalizeRow(REPORTS.history, raw)
    }
  }
  const done = writeReport(REPORTS.history, many(), 'xlsx', stalled)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.ok(produced < 50_000, `paused after ${produced} rows`)
  stalled.destroy()
  await t.rejects(done, 'the write fails instead of hanging')
})

const hostileNames = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", '@SUM(1+1)', '-2+3', '\tTAB', '\rCR']
const hostileRows = [...hostileNames, '+15551234', '-42', 'Plain name'].map((name, i) =>
  normalizeRow(REPORTS.calllog, { CallId: i + 1, StartTime: '2026-11-01T09:30:00Z', SourceDn: '102', SourceDisplayName: name, Answered: false }))

t.test('CSV: cells a spreadsheet would run as formulas start with a quote; plain numbers stay numbers', async (t) => {
  const out = collector()
  t.equal(await writeReport(REPORTS.calllog, rowsOf(hostileRows), 'csv', out.stream), 9)
  const text = out.bytes().toString('utf8')
  t.ok(text.includes('"\'\rCR"'), 'a cell starting with CR neutralized (quoted, as RFC 4180 wants)')
  // The test's strict reader refuses a bare CR, so that record is checked on the raw text above.
  const names = csvObjects(text.replace('"\'\rCR"', 'CR-cell')).map((r) => r.SourceDisplayName)
  t.equal(names.length, 9)
  t.same(names.slice(0, 5), hostileNames.slice(0, 5).map((n) => `'${n}`), 'formula starts = + - @ tab neutralized')
  t.same(names.slice(6), ['+15551234', '-42', 'Plain name'], 'a phone number, a negative number and text unchanged')
  t.equal(names.filter((n) => /^[=+@\t\r-]/.test(n) && !/^[+-]\d+$/.test(n)).length, 0, 'no cell starts a formula')
})

t.test('XLSX: the same texts are stored as text cells, never formulas', async (t) => {
  const out = collector()
  t.equal(await writeReport(REPORTS.calllog, rowsOf(hostileRows), 'xlsx', out.stream), 9)
  const names = (await readXlsx(out.bytes())).rows.map((r) => r.SourceDisplayName)
  t.equal(names.length, 9)
  // XML stores a lone CR as a line break.
  t.same(names, [...hostileNames, '+15551234', '-42', 'Plain name'].map((n) => n.replace('\r', '\n')), 'the exact text, as strings')
})
