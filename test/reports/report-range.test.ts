import t from 'tap'
import { localDate, MAX_SPAN_DAYS, parseReportTime, rangeLabel, resolveRange, splitRange } from '../../src/reports/report-range.js'
import { ReportInputError } from '../../src/reports/report-input-error.js'

const iso = (d: Date | null): string | null => d === null ? null : d.toISOString()

/** [text, time zone, edge, expected UTC instant, why]: the table of parseReportTime. */
const PARSED: Array<[string, string, 'from' | 'to', string, string]> = [
  ['2026-11-01', 'UTC', 'from', '2026-11-01T00:00:00.000Z', 'a date starts the day'],
  ['2026-11-01', 'UTC', 'to', '2026-11-02T00:00:00.000Z', 'a "to" date includes its day'],
  ['2026-11-01', 'Europe/Berlin', 'from', '2026-10-31T23:00:00.000Z', 'winter time'],
  ['2026-07-01', 'Europe/Berlin', 'from', '2026-06-30T22:00:00.000Z', 'summer time'],
  ['2026-11-01', 'America/New_York', 'from', '2026-11-01T04:00:00.000Z', 'west of UTC'],
  ['2026-11-01', 'Asia/Kolkata', 'to', '2026-11-01T18:30:00.000Z', 'half-hour offset'],
  ['2026-12-31', 'UTC', 'to', '2027-01-01T00:00:00.000Z', 'year rolls over'],
  ['2028-02-28', 'UTC', 'to', '2028-02-29T00:00:00.000Z', 'leap day'],
  ['2026-11-01T08:30', 'Europe/Berlin', 'from', '2026-11-01T07:30:00.000Z', 'local date-time'],
  ['2026-11-01 08:30:15', 'Europe/Berlin', 'from', '2026-11-01T07:30:15.000Z', 'space instead of T'],
  ['2026-11-01T08:30:15.250Z', 'Europe/Berlin', 'from', '2026-11-01T08:30:15.250Z', 'Z wins over the zone'],
  ['2026-11-01T08:30:00-05:00', 'Europe/Berlin', 'to', '2026-11-01T13:30:00.000Z', 'an offset wins over the zone'],
  ['2026-11-01T08:30:00+0530', 'UTC', 'to', '2026-11-01T03:00:00.000Z', 'offset without colon'],
  ['2026-11-01T08:30:00.1234567+00:00', 'UTC', 'to', '2026-11-01T08:30:00.123Z', '3CX-style 7 digits'],
  ['2026-11-01T08:30:00 05:30', 'UTC', 'to', '2026-11-01T03:00:00.000Z', 'an unencoded + (a query reads it as a space)'],
  ['2026-11-01 08:30 01:00', 'UTC', 'from', '2026-11-01T07:30:00.000Z', 'space instead of T, and an unencoded +']
]

t.test('dates are whole days in the configured zone, date-times exact; "to" dates are inclusive', async (t) => {
  for (const [text, zone, edge, expected, why] of PARSED) t.equal(iso(parseReportTime(text, zone, edge)), expected, `${why}: ${text} ${zone}`)
})

t.test('daylight saving: the repeated hour resolves to its second occurrence, the skipped hour does not crash', async (t) => {
  // Europe/Berlin: 2026-10-25 03:00 CEST → 02:00 CET; 2026-03-29 02:00 CET → 03:00 CEST.
  t.equal(iso(parseReportTime('2026-10-25T02:30', 'Europe/Berlin', 'from')), '2026-10-25T01:30:00.000Z')
  t.equal(iso(parseReportTime('2026-10-25T03:30', 'Europe/Berlin', 'from')), '2026-10-25T02:30:00.000Z')
  t.equal(iso(parseReportTime('2026-03-29T01:30', 'Europe/Berlin', 'from')), '2026-03-29T00:30:00.000Z')
  t.equal(iso(parseReportTime('2026-03-29T03:30', 'Europe/Berlin', 'from')), '2026-03-29T01:30:00.000Z')
  const skipped = parseReportTime('2026-03-29T02:30', 'Europe/Berlin', 'from')
  t.ok(skipped !== null && skipped.getTime() >= Date.UTC(2026, 2, 29, 0, 30) && skipped.getTime() <= Date.UTC(2026, 2, 29, 1, 30), 'a time the clocks skip lands next to the gap')
  // A 23-hour and a 25-hour day.
  const spring = resolveRange('2026-03-29', '2026-03-29', 'Europe/Berlin')
  t.equal(spring.to.getTime() - spring.from.getTime(), 23 * 3600_000)
  const autumn = resolveRange('2026-10-25', '2026-10-25', 'Europe/Berlin')
  t.equal(autumn.to.getTime() - autumn.from.getTime(), 25 * 3600_000)
})

t.test('malformed dates are refused', async (t) => {
  for (const bad of ['2026-02-30', '2026-13-01', '2026-11-01T24:00', '2026-11-01T10:60', '26-11-01', '2026/11/01', 'yesterday', '2026-11-01T10:00+15:00', '2026-11-01T10:00 15:00', '2026-11-01 10:00  01:00', '2026-11-01  10:00', '']) {
    t.equal(parseReportTime(bad, 'UTC', 'from'), null, bad)
  }
})

t.test('resolveRange names the parameter and says what to fix', async (t) => {
  const fails = (from: string | undefined, to: string | undefined, param: string, words: RegExp): void => {
    try {
      resolveRange(from, to, 'UTC')
      t.fail(`accepted ${String(from)}..${String(to)}`)
    } catch (err) {
      t.ok(err instanceof ReportInputError, 'ReportInputError')
      t.equal((err as ReportInputError).param, param)
      t.match((err as Error).message, words)
    }
  }
  fails(undefined, '2026-11-01', 'from', /required.*2026-11-01/)
  fails('2026-11-01', ' ', 'to', /required/)
  fails('2026-11-31', '2026-12-01', 'from', /is not a date/)
  fails('2026-11-02', '2026-11-01', 'to', /must be after from/)
  fails('2026-11-01T10:00Z', '2026-11-01T10:00Z', 'to', /must be after from/)
  fails('2020-01-01', '2026-01-01', 'to', /more than 5 years/)
  t.same(resolveRange('2026-11-01', '2026-11-01', 'UTC'), { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') }, 'one whole day')
  const longest = resolveRange('2021-01-01T00:00Z', new Date(Date.UTC(2021, 0, 1) + MAX_SPAN_DAYS * 86_400_000).toISOString(), 'UTC')
  t.equal(longest.to.getTime() - longest.from.getTime(), MAX_SPAN_DAYS * 86_400_000, 'exactly the limit is allowed')
})

t.test('splitRange cuts a long range into consecutive chunks of at most maxDays', async (t) => {
  const range = resolveRange('2026-11-01', '2026-11-20', 'UTC')
  const chunks = splitRange(range, 7)
  t.same(chunks.map((c) => [c.from.toISOString().slice(0, 10), c.to.toISOString().slice(0, 10)]), [
    ['2026-11-01', '2026-11-08'], ['2026-11-08', '2026-11-15'], ['2026-11-15', '2026-11-21']
  ])
  t.equal(splitRange(resolveRange('2026-11-01', '2026-11-07', 'UTC'), 7).length, 1, 'exactly maxDays is one chunk')
  t.equal(splitRange(resolveRange('2026-11-01T10:00Z', '2026-11-01T10:05Z', 'UTC'), 7).length, 1)
  t.equal(splitRange(resolveRange('2021-01-01', '2025-12-31', 'UTC'), 366).length, 5)
})

t.test('labels for file names use local days, the exclusive end naming the day before', async (t) => {
  t.equal(rangeLabel(resolveRange('2026-11-01', '2026-11-07', 'Europe/Berlin'), 'Europe/Berlin'), '2026-11-01_2026-11-07')
  t.equal(rangeLabel(resolveRange('2026-11-01T08:00', '2026-11-01T09:00', 'Asia/Tokyo'), 'Asia/Tokyo'), '2026-11-01_2026-11-01')
  t.equal(localDate(new Date('2026-11-01T23:30:00Z'), 'Europe/Berlin'), '2026-11-02')
})
