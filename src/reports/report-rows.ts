// XAPI rows as the gateway hands them out: XAPI's field names kept, times as ISO-8601 UTC, and every
// duration also in seconds (`TalkingDuration: "PT1M5S"` → `TalkingDurationSeconds: 65`). Pure.
import { SECONDS_SUFFIX, type ReportDefinition } from './report-kinds.js'

export type ReportRow = Record<string, unknown>

const ISO_DURATION = /^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/
/** .NET TimeSpan text, which some 3CX reports use: `[-][d.]hh:mm:ss[.fffffff]`. */
const TIME_SPAN = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/

/** `PT1M5.5S` → 65.5, `01:02:03` → 3723; null for null, '' or anything else. Rounded to ms. */
export function durationSeconds (value: unknown): number | null {
  if (typeof value !== 'string') return typeof value === 'number' && Number.isFinite(value) ? value : null
  const iso = ISO_DURATION.exec(value)
  if (iso !== null && value !== 'P' && value !== 'PT' && !value.endsWith('T')) {
    const [, neg, d, h, m, s] = iso
    const total = Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0)
    return roundMs(neg === undefined ? total : -total)
  }
  const span = TIME_SPAN.exec(value)
  if (span !== null) {
    const [, neg, d, h, m, s] = span
    const total = Number(d ?? 0) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s)
    return roundMs(neg === undefined ? total : -total)
  }
  return null
}

function roundMs (s: number): number {
  return Math.round(s * 1000) / 1000
}

/** 3725 → `1:02:05` (hours are not wrapped at 24). */
export function formatHms (seconds: number): string {
  const sign = seconds < 0 ? '-' : ''
  const s = Math.round(Math.abs(seconds))
  return `${sign}${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

/** 65 → `PT1M5S`: an ISO-8601 duration as XAPI writes them (used when merging report chunks). */
export function isoDuration (seconds: number): string {
  let s = roundMs(Math.max(0, seconds))
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s = roundMs(s - m * 60)
  return `PT${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${s > 0 || (h === 0 && m === 0) ? `${s}S` : ''}`
}

/**
 * XAPI's date-time text (`2026-11-01T08:00:00.0000000+01:00`, 7 fraction digits) → ISO-8601 UTC
 * (`2026-11-01T07:00:00Z`, milliseconds only when not zero). Anything unparseable is kept as is.
 */
export function utcIso (value: unknown): unknown {
  if (typeof value !== 'string') return value
  const m = DATE_TIME.exec(value)
  if (m === null) return value
  const fraction = m[2] === undefined ? '' : m[2].slice(0, 4).padEnd(4, '0')
  const t = Date.parse(`${m[1]}${fraction}${m[3] ?? 'Z'}`)
  if (Number.isNaN(t)) return value
  return new Date(t).toISOString().replace('.000Z', 'Z')
}

/**
 * One PBX row in the gateway's shape: every field kept in the PBX's order, date-times in UTC, and
 * a `…Seconds` field right after each duration the report defines.
 */
export function normalizeRow (def: ReportDefinition, raw: ReportRow): ReportRow {
  const out: ReportRow = {}
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('@odata.')) continue
    const type = columnTypes(def).get(key)
    if (type === 'datetime') {
      out[key] = utcIso(value)
    } else if (type === 'duration') {
      out[key] = value
      out[`${key}${SECONDS_SUFFIX}`] = durationSeconds(value)
    } else {
      out[key] = value
    }
  }
  return out
}

const typeMaps = new WeakMap<ReportDefinition, Map<string, string>>()

function columnTypes (def: ReportDefinition): Map<string, string> {
  let m = typeMaps.get(def)
  if (m === undefined) {
    m = new Map(def.columns.map((c) => [c.name, c.type]))
    typeMaps.set(def, m)
  }
  return m
}
