// OData system query options: parsing the raw query string (top level and nested inside $expand)
// into `QueryOptions`, and applying them to plain JSON rows. Pure; errors are 400 ODataErrors.
import { badQuery } from './odata-error.js'
import { compileFilter, readPath, type Row, type RowPredicate } from './odata-filter.js'
import { splitTopLevel } from './odata-literal.js'

export interface OrderItem { path: string[], descending: boolean }
export interface ExpandItem { name: string, options: QueryOptions }

export interface QueryOptions {
  filter?: string
  select?: string[]
  expand?: ExpandItem[]
  orderby?: OrderItem[]
  top?: number
  skip?: number
  count?: boolean
  search?: string
}

/**
 * What the rows of one entity type look like: its type name (for messages) and its navigation
 * properties, which rows carry in full but which are served only on $expand.
 */
export interface EntityShape {
  typeName: string
  navigation?: Readonly<Record<string, EntityShape>>
}

export interface CollectionResult { '@odata.count'?: number, value: Row[] }

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
const ORDER_ITEM = /^([A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*)(?:\s+(asc|desc))?$/i

/** Parses a raw (still percent-encoded) query string. Non-`$` parameters are ignored. */
export function parseQueryString (raw: string): QueryOptions {
  const options: QueryOptions = {}
  const seen = new Set<string>()
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decodeQueryComponent(eq < 0 ? part : part.slice(0, eq))
    const value = eq < 0 ? '' : decodeQueryComponent(part.slice(eq + 1))
    if (!name.startsWith('$')) continue
    if (seen.has(name)) throw badQuery(`Query option '${name}' was specified more than once; it must be specified at most once.`)
    seen.add(name)
    setOption(options, name, value)
  }
  return options
}

function decodeQueryComponent (text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    throw badQuery(`The query string contains an invalid percent-encoding: '${text}'.`)
  }
}

function setOption (options: QueryOptions, name: string, value: string): void {
  switch (name) {
    case '$filter':
      if (value.trim() === '') throw badQuery('$filter must not be empty.')
      options.filter = value
      return
    case '$select': options.select = parseSelect(value); return
    case '$expand': options.expand = parseExpand(value); return
    case '$orderby': options.orderby = parseOrderBy(value); return
    case '$top': options.top = parseCount(name, value); return
    case '$skip': options.skip = parseCount(name, value); return
    case '$count':
      if (value !== 'true' && value !== 'false') throw badQuery(`$count must be true or false, not '${value}'.`)
      options.count = value === 'true'
      return
    case '$search': options.search = value.replace(/^"(.*)"$/, '$1'); return
    default: throw badQuery(`The query parameter '${name}' is not supported.`)
  }
}

function parseCount (name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw badQuery(`${name} must be a non-negative integer, not '${value}'.`)
  return Number(value)
}

function parseSelect (value: string): string[] {
  const items = value.split(',').map((s) => s.trim())
  for (const item of items) {
    if (item !== '*' && !IDENTIFIER.test(item)) throw badQuery(`Invalid $select item '${item}'.`)
  }
  return items
}

function parseOrderBy (value: string): OrderItem[] {
  return value.split(',').map((item) => {
    const m = ORDER_ITEM.exec(item.trim())
    if (m === null) throw badQuery(`Invalid $orderby item '${item}'.`)
    return { path: m[1].split('/'), descending: m[2]?.toLowerCase() === 'desc' }
  })
}

/** `Groups,ForwardingProfiles($select=Name,CustomName;$filter=…)` → expand items with nested options. */
function parseExpand (value: string): ExpandItem[] {
  const items = splitTopLevel(value, ',')
  if (items === null) throw badQuery(`Unbalanced quotes or parentheses in $expand '${value}'.`)
  return items.map((item) => {
    const text = item.trim()
    const open = text.indexOf('(')
    const name = open < 0 ? text : text.slice(0, open).trim()
    if (!IDENTIFIER.test(name)) throw badQuery(`Invalid $expand item '${text}'.`)
    if (open < 0) return { name, options: {} }
    if (!text.endsWith(')')) throw badQuery(`Invalid $expand item '${text}'.`)
    const nested = splitTopLevel(text.slice(open + 1, -1), ';') ?? []
    const options: QueryOptions = {}
    for (const option of nested) {
      const eq = option.indexOf('=')
      const key = option.slice(0, eq < 0 ? undefined : eq).trim()
      if (eq < 0 || !key.startsWith('$')) throw badQuery(`Invalid nested option '${option}' in $expand.`)
      setOption(options, key, option.slice(eq + 1).trim())
    }
    return { name, options }
  })
}

/** Checks a property path against a sample row: every step but the last must be an object. */
function pathExists (sample: Row | undefined, path: readonly string[]): boolean {
  if (sample === undefined) return true
  let current: unknown = sample
  for (const name of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return current === null
    if (!(name in (current as Row))) return false
    current = (current as Row)[name]
  }
  return true
}

/** Compiles $filter and $search into one predicate (or null when neither is given). */
function rowPredicate (options: QueryOptions, shape: EntityShape, sample: Row | undefined): RowPredicate | null {
  const checks: RowPredicate[] = []
  if (options.filter !== undefined) checks.push(compileFilter(options.filter, (path) => pathExists(sample, path)))
  if (options.search !== undefined && options.search !== '') {
    const needle = options.search.toLowerCase()
    checks.push((row) => Object.entries(row).some(([key, v]) =>
      shape.navigation?.[key] === undefined && typeof v === 'string' && v.toLowerCase().includes(needle)))
  }
  if (checks.length === 0) return null
  if (checks.length === 1) return checks[0]
  return (row) => checks.every((check) => check(row))
}

function compareForOrder (a: unknown, b: unknown): number {
  if (a === b) return 0
  if (a === null || a === undefined) return -1
  if (b === null || b === undefined) return 1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export function sortRows (rows: Row[], order: readonly OrderItem[], shape: EntityShape): Row[] {
  const sample = rows[0]
  for (const item of order) {
    if (!pathExists(sample, item.path)) throw badQuery(`Could not find a property named '${item.path.join('/')}' on type '${shape.typeName}' to order by.`)
  }
  return rows.slice().sort((r1, r2) => {
    for (const item of order) {
      const c = compareForOrder(readPath(r1, item.path), readPath(r2, item.path))
      if (c !== 0) return item.descending ? -c : c
    }
    return 0
  })
}

/**
 * Applies a collection's options in OData's order: filter and search, count, orderby, skip, top,
 * then select/expand on the page only (so paging through 100,000 rows stays cheap).
 */
export function applyToCollection (rows: readonly Row[], options: QueryOptions, shape: EntityShape): CollectionResult {
  const sample = rows[0]
  const predicate = rowPredicate(options, shape, sample)
  let matched: Row[] = predicate === null ? rows as Row[] : rows.filter(predicate)
  const count = matched.length
  if (options.orderby !== undefined) matched = sortRows(matched, options.orderby, shape)
  const skip = options.skip ?? 0
  const page = matched.slice(skip, options.top === undefined ? undefined : skip + options.top)
  const value = page.map((row) => shapeEntity(row, options, shape))
  return options.count === true ? { '@odata.count': count, value } : { value }
}

/**
 * One entity as served: navigation properties dropped unless expanded (expanded ones get their nested
 * options), then $select. Unknown names in $select/$expand are 400, as on the real PBX.
 */
export function shapeEntity (row: Row, options: QueryOptions, shape: EntityShape): Row {
  const navigation = shape.navigation ?? {}
  const expanded = new Map<string, ExpandItem>()
  for (const item of options.expand ?? []) {
    if (navigation[item.name] === undefined) throw badQuery(`Property '${item.name}' on type '${shape.typeName}' is not a navigation property or complex property. Only navigation properties can be expanded.`)
    expanded.set(item.name, item)
  }
  const select = options.select === undefined || options.select.includes('*') ? null : options.select
  for (const name of select ?? []) {
    if (!(name in row)) throw badQuery(`Could not find a property named '${name}' on type '${shape.typeName}'.`)
  }
  const out: Row = {}
  for (const [key, value] of Object.entries(row)) {
    const nav = navigation[key]
    if (nav !== undefined) {
      const item = expanded.get(key)
      if (item !== undefined) out[key] = expandValue(value, item.options, nav)
      continue
    }
    if (select === null || select.includes(key)) out[key] = value
  }
  return out
}

function expandValue (value: unknown, options: QueryOptions, shape: EntityShape): unknown {
  if (Array.isArray(value)) return applyToCollection(value as Row[], { ...options, count: false }, shape).value
  if (value !== null && typeof value === 'object') return shapeEntity(value as Row, options, shape)
  return value
}
