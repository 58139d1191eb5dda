// Pure builders for 3CX's OData v4 dialect (docs/3cx-v20.md §3.2–3.3).
// Every caller value that reaches an XAPI URL goes through one of these, so nothing a CRM sends
// can change the shape of a query: strings are quoted with '' escaping, names are checked, numbers
// must be finite, and the result is URL-encoded once.

/** A value a caller may put into a filter or a function call. `{ raw }` is for trusted, built text only. */
export type ODataValue = string | number | boolean | Date | null | { raw: string }

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/

export class ODataBuildError extends Error {
  override name = 'ODataBuildError'
}

/** Checks a property or function name (`Number`, `TrunkDN/Number`); throws on anything else. */
export function name (n: string): string {
  if (!NAME.test(n)) throw new ODataBuildError(`not an OData property name: ${JSON.stringify(n)}`)
  return n
}

/** `O'Brien` → `'O''Brien'` (not yet URL-encoded). */
export function quote (s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/** A date-time as 3CX wants it: bare ISO-8601 UTC without milliseconds, e.g. `2025-01-01T00:00:00Z`. */
export function isoDateTime (d: Date): string {
  if (Number.isNaN(d.getTime())) throw new ODataBuildError('invalid date')
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Formats one literal: strings quoted, dates bare, numbers and booleans bare, null as `null`. */
export function literal (v: ODataValue): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ODataBuildError(`not a finite number: ${v}`)
    return String(v)
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (v instanceof Date) return isoDateTime(v)
  return v.raw
}

export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'

/** `Number eq '101'` */
export function compare (field: string, op: ComparisonOp, value: ODataValue): string {
  return `${name(field)} ${op} ${literal(value)}`
}

export function eq (field: string, value: ODataValue): string {
  return compare(field, 'eq', value)
}

/** `contains(Caller,'101')` */
export function contains (field: string, value: string): string {
  return `contains(${name(field)},${quote(value)})`
}

/** Joins clauses with `and`, each in parentheses when it contains a space; empty clauses are dropped. */
export function and (...clauses: Array<string | undefined | false>): string {
  return join('and', clauses)
}

/** Joins clauses with `or`. Use chained `or` rather than `in (...)`, which 3CX may not support. */
export function or (...clauses: Array<string | undefined | false>): string {
  return join('or', clauses)
}

/** `Number eq '101' or Number eq '102'` for a list of values. */
export function anyEq (field: string, values: readonly ODataValue[]): string {
  return or(...values.map((v) => eq(field, v)))
}

function join (op: string, clauses: Array<string | undefined | false>): string {
  const parts = clauses.filter((c): c is string => typeof c === 'string' && c.length > 0)
  if (parts.length === 1) return parts[0]
  return parts.map((c) => (/\s/.test(c) && !wrapped(c) ? `(${c})` : c)).join(` ${op} `)
}

/** True when one pair of parentheses encloses the whole clause: `(a or b)`, not `(a) or (b)`. */
function wrapped (c: string): boolean {
  if (!c.startsWith('(')) return false
  let depth = 0
  let quoted = false
  for (let i = 0; i < c.length; i++) {
    const ch = c[i]
    if (ch === "'") quoted = !quoted
    else if (quoted) continue
    else if (ch === '(') depth++
    else if (ch === ')' && --depth === 0) return i === c.length - 1
  }
  return false
}

export interface ODataQuery {
  filter?: string
  select?: readonly string[]
  /** Either names or nested options already built, e.g. `ForwardingProfiles($select=Name)`. */
  expand?: readonly string[]
  orderby?: readonly string[]
  top?: number
  skip?: number
  count?: boolean
  search?: string
}

const ORDER = /^[A-Za-z_][A-Za-z0-9_/]*( (asc|desc))?$/
const EXPAND = /^[A-Za-z_][A-Za-z0-9_]*(\(.*\))?$/

/** Builds `?$filter=…&$select=a,b…` (or '' when empty). Arrays are comma-joined (explode: false). */
export function queryString (q: ODataQuery = {}): string {
  const parts: string[] = []
  const add = (k: string, v: string): void => { parts.push(`${k}=${encodeURIComponent(v)}`) }
  if (q.filter !== undefined && q.filter !== '') add('$filter', q.filter)
  if (q.select !== undefined && q.select.length > 0) add('$select', q.select.map(name).join(','))
  if (q.expand !== undefined && q.expand.length > 0) {
    for (const e of q.expand) if (!EXPAND.test(e)) throw new ODataBuildError(`bad $expand item: ${JSON.stringify(e)}`)
    add('$expand', q.expand.join(','))
  }
  if (q.orderby !== undefined && q.orderby.length > 0) {
    for (const o of q.orderby) if (!ORDER.test(o)) throw new ODataBuildError(`bad $orderby item: ${JSON.stringify(o)}`)
    add('$orderby', q.orderby.join(','))
  }
  if (q.top !== undefined) add('$top', String(nonNegativeInt(q.top, '$top')))
  if (q.skip !== undefined) add('$skip', String(nonNegativeInt(q.skip, '$skip')))
  if (q.count === true) add('$count', 'true')
  if (q.search !== undefined && q.search !== '') add('$search', q.search)
  return parts.length > 0 ? `?${parts.join('&')}` : ''
}

function nonNegativeInt (n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0) throw new ODataBuildError(`${what} must be a non-negative integer`)
  return n
}

/** Nested expand option: `ForwardingProfiles($select=Name,CustomName)`. */
export function expandWith (nav: string, opts: { select?: readonly string[], filter?: string }): string {
  const inner: string[] = []
  if (opts.select !== undefined && opts.select.length > 0) inner.push(`$select=${opts.select.map(name).join(',')}`)
  if (opts.filter !== undefined && opts.filter !== '') inner.push(`$filter=${opts.filter}`)
  return inner.length > 0 ? `${name(nav)}(${inner.join(';')})` : name(nav)
}

/**
 * A bound function call path segment: `Pbx.GetCallLogData(periodFrom=2025-01-01T00:00:00Z,sourceFilter='')`.
 * Every parameter must be given (3CX answers 404 otherwise); the order is kept as passed.
 * String contents are percent-encoded so the result can be put into a URL path as is.
 */
export function functionCall (fn: string, params: Record<string, ODataValue> = {}): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(fn)) throw new ODataBuildError(`not a function name: ${JSON.stringify(fn)}`)
  const args = Object.entries(params).map(([k, v]) => `${name(k)}=${encodeLiteral(v)}`)
  return `${fn}(${args.join(',')})`
}

function encodeLiteral (v: ODataValue): string {
  if (typeof v === 'string') return `'${encodeURIComponent(v.replace(/'/g, "''"))}'`
  return literal(v)
}

/** Entity key path: `Users(42)` or, with an alternate key (3CX 20.0.8+), `Users(Number='101')`. */
export function keyPath (set: string, key: number | { Number: string }): string {
  name(set)
  if (typeof key === 'number') return `${set}(${nonNegativeInt(key, 'key')})`
  return `${set}(Number=${encodeLiteral(key.Number)})`
}

/**
 * One caller value as one URL path segment (`/callcontrol/{dn}/devices/{id}`): percent-encoded, and
 * never empty, `.` or `..`, which a URL parser would resolve into another path.
 */
export function pathSegment (value: string): string {
  if (value === '' || value === '.' || value === '..') throw new ODataBuildError(`not a path segment: ${JSON.stringify(value)}`)
  return encodeURIComponent(value)
}

/** 3CX's `waitInterval` style for durations: 30 s → `'0:00:30'`. */
export function waitInterval (seconds: number): string {
  const s = nonNegativeInt(Math.floor(seconds), 'waitInterval')
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
}
