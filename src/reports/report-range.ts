// Report periods: `from`/`to` as a person writes them (dates or date-times, in the PBX's time zone
// unless an offset is given) → a half-open UTC range [from, to) for the PBX, and the split of a long
// range into chunks 3CX answers without timing out (504). Pure; time zones through Intl only.
import { ReportInputError } from './report-input-error.js'

/** A half-open UTC range: `from` included, `to` excluded. */
export interface ReportRange { from: Date, to: Date }

/** Longer ranges are a typo (2062 for 2026), not a report: refuse them before asking the PBX. */
export const MAX_SPAN_DAYS = 5 * 365 + 2
const DAY_MS = 86_400_000

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
// The offset's sign may be a space: an unencoded `+` in a query (`from=2026-11-01T08:30+01:00`) reads as one.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+ -]\d{2}:?\d{2})?$/i

export const TIME_FORMAT_HINT = 'a date such as 2026-11-01 or a date-time such as 2026-11-01T08:30 (optionally with seconds and Z or an offset like +01:00)'

interface WallTime { y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number }

/**
 * Parses one end of a period. A bare date means the whole day: as `from` its first instant, as `to`
 * the first instant of the next day (so `to` dates are inclusive). Without an offset, wall times are
 * read in `timeZone`. Returns null when the text is not a valid date or date-time.
 */
export function parseReportTime (text: string, timeZone: string, edge: 'from' | 'to'): Date | null {
  const dateOnly = DATE.exec(text)
  if (dateOnly !== null) {
    const wall = checkedWall(+dateOnly[1], +dateOnly[2], +dateOnly[3], 0, 0, 0, 0)
    if (wall === null) return null
    if (edge === 'to') {
      // Day after, through Date.UTC so month and year roll over.
      const next = new Date(Date.UTC(wall.y, wall.mo - 1, wall.d + 1))
      return zonedWallToUtc({ ...wall, y: next.getUTCFullYear(), mo: next.getUTCMonth() + 1, d: next.getUTCDate() }, timeZone)
    }
    return zonedWallToUtc(wall, timeZone)
  }
  const m = DATE_TIME.exec(text)
  if (m === null) return null
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000)
  const wall = checkedWall(+m[1], +m[2], +m[3], +m[4], +m[5], m[6] === undefined ? 0 : +m[6], ms)
  if (wall === null) return null
  const zone = m[8]
  if (zone === undefined) return zonedWallToUtc(wall, timeZone)
  const asUtc = wallMs(wall)
  if (zone.toUpperCase() === 'Z') return new Date(asUtc)
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))
  if (offsetMin > 14 * 60) return null
  return new Date(asUtc - sign * offsetMin * 60_000)
}

/**
 * Resolves `from`/`to` texts into a UTC range. Throws ReportInputError naming the parameter when
 * one is missing or malformed, when `to` is not after `from`, or when the span is absurd.
 */
export function resolveRange (fromText: string | undefined, toText: string | undefined, timeZone: string, maxSpanDays = MAX_SPAN_DAYS): ReportRange {
  const from = requiredTime('from', fromText, timeZone)
  const to = requiredTime('to', toText, timeZone)
  if (to.getTime() <= from.getTime()) {
    throw new ReportInputError('to', `(${String(toText)}) must be after from (${String(fromText)}); a date as "to" includes that whole day`)
  }
  if (to.getTime() - from.getTime() > MAX_SPAN_DAYS * DAY_MS) {
    throw new ReportInputError('to', `is more than 5 years after from; ask for at most 5 years at a time (${String(fromText)} to ${String(toText)} was given)`)
  }
  // Each chunk of the range is at least one PBX request: the span bounds the fan-out.
  if (to.getTime() - from.getTime() > maxSpanDays * DAY_MS) {
    throw new ReportInputError('to', `is more than ${maxSpanDays} days after from; ask for at most ${maxSpanDays} days at a time (REPORT_MAX_SPAN_DAYS; ${String(fromText)} to ${String(toText)} was given)`)
  }
  return { from, to }
}

function requiredTime (param: 'from' | 'to', text: string | undefined, timeZone: string): Date {
  if (text === undefined || text.trim() === '') throw new ReportInputError(param, `is required: ${TIME_FORMAT_HINT}`)
  const t = parseReportTime(text.trim(), timeZone, param)
  if (t === null) throw new ReportInputError(param, `(${text.slice(0, 40)}) is not ${TIME_FORMAT_HINT}`)
  return t
}

/** Splits a range into consecutive pieces of at most `maxDays` days (the last may be shorter). */
export function splitRange (range: ReportRange, maxDays: number): ReportRange[] {
  const step = Math.max(1, maxDays) * DAY_MS
  const chunks: ReportRange[] = []
  for (let start = range.from.getTime(); start < range.to.getTime(); start += step) {
    chunks.push({ from: new Date(start), to: new Date(Math.min(start + step, range.to.getTime())) })
  }
  return chunks
}

/**
 * `2026-11-01_2026-11-07`: the local days a range covers, for file names. The end is exclusive, so
 * a range ending at midnight names the day before.
 */
export function rangeLabel (range: ReportRange, timeZone: string): string {
  return `${localDate(range.from, timeZone)}_${localDate(new Date(range.to.getTime() - 1), timeZone)}`
}

/** `YYYY-MM-DD` of an instant in a time zone. */
export function localDate (at: Date, timeZone: string): string {
  const w = wallAt(at.getTime(), timeZone)
  return `${String(w.y).padStart(4, '0')}-${pad2(w.mo)}-${pad2(w.d)}`
}

function pad2 (n: number): string {
  return String(n).padStart(2, '0')
}

function checkedWall (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): WallTime | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null
  const probe = new Date(Date.UTC(y, mo - 1, d))
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null // 2026-02-30
  return { y, mo, d, h, mi, s, ms }
}

function wallMs (w: WallTime): number {
  const t = new Date(0)
  t.setUTCFullYear(w.y, w.mo - 1, w.d) // years < 100 stay literal, unlike Date.UTC
  t.setUTCHours(w.h, w.mi, w.s, w.ms)
  return t.getTime()
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor (timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall-clock time an instant shows in a time zone (whole seconds). */
function wallAt (utcMs: number, timeZone: string): WallTime {
  const parts: Record<string, number> = {}
  for (const p of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return { y: parts.year, mo: parts.month, d: parts.day, h: parts.hour, mi: parts.minute, s: parts.second, ms: 0 }
}

/** The zone's offset from UTC at an instant, in ms (Berlin in winter: +3 600 000). */
function offsetAt (utcMs: number, timeZone: string): number {
  const wholeSeconds = Math.floor(utcMs / 1000) * 1000
  return wallMs(wallAt(wholeSeconds, timeZone)) - wholeSeconds
}

/**
 * The UTC instant of a wall-clock time in a zone. Ambiguous times (the repeated hour in autumn)
 * resolve to the later one; times skipped in spring land just before the gap.
 */
export function zonedWallToUtc (wall: WallTime, timeZone: string): Date {
  const asUtc = wallMs(wall)
  const firstGuess = asUtc - offsetAt(asUtc, timeZone)
  const offset = offsetAt(firstGuess, timeZone)
  if (offset === asUtc - firstGuess) return new Date(firstGuess)
  const second = asUtc - offset
  return new Date(offsetAt(second, timeZone) === offset ? second : firstGuess)
}
