// $filter: parsed by @odata/parser, compiled here into a predicate over plain JSON rows.
//
// Parser choice: @odata/parser (0.2.x) and odata-v4-parser (0.1.x, its ancestor) produce the same AST
// and both accept every filter 3CX clients send (bare ISO date-times, `''` escapes, nav paths such as
// `TrunkDN/Number`, contains/startswith, not, parentheses). Both fail the same way on nested expand
// options (`$expand=X($filter=A eq 'b';$select=C)` fails at 0), so $expand/$select/$orderby are split
// by hand (odata-query.ts) and only $filter goes through the parser. @odata/parser is the maintained
// fork with types, so that is the one used.
import { defaultParser } from '@odata/parser'
import { badQuery } from './odata-error.js'
import { unquote } from './odata-literal.js'

export type Row = Record<string, unknown>
export type RowPredicate = (row: Row) => boolean
type Evaluate = (row: Row) => unknown

/** Says whether a property path exists on the rows being filtered (to answer 400 on a typo). */
export type PropertyCheck = (path: readonly string[]) => boolean

interface Token { type: string, value: any, raw?: string }

const COMPARISONS: Record<string, (c: number) => boolean> = {
  EqualsExpression: (c) => c === 0,
  NotEqualsExpression: (c) => c !== 0,
  LesserThanExpression: (c) => c < 0,
  LesserOrEqualsExpression: (c) => c <= 0,
  GreaterThanExpression: (c) => c > 0,
  GreaterOrEqualsExpression: (c) => c >= 0
}

const INTEGER_TYPES = new Set(['Edm.SByte', 'Edm.Byte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single'])

/** Compiles a $filter expression; throws a 400 ODataError on syntax errors, unknown properties or functions. */
export function compileFilter (text: string, propertyExists: PropertyCheck): RowPredicate {
  let ast: Token
  try {
    ast = defaultParser.filter(text) as Token
  } catch (err) {
    throw badQuery(`Syntax error in $filter '${text}': ${(err as Error).message}.`)
  }
  const evaluate = compile(ast, propertyExists)
  return (row) => evaluate(row) === true
}

function compile (token: Token, propertyExists: PropertyCheck): Evaluate {
  const sub = (t: Token): Evaluate => compile(t, propertyExists)
  const compare = COMPARISONS[token.type]
  if (compare !== undefined) {
    const left = sub(token.value.left)
    const right = sub(token.value.right)
    const isEquality = token.type === 'EqualsExpression' || token.type === 'NotEqualsExpression'
    return (row) => {
      const a = left(row)
      const b = right(row)
      if (a === null || a === undefined || b === null || b === undefined) {
        const bothNull = (a ?? null) === null && (b ?? null) === null
        if (!isEquality) return false
        return token.type === 'EqualsExpression' ? bothNull : !bothNull
      }
      return compare(compareValues(a, b, token.raw ?? ''))
    }
  }
  switch (token.type) {
    case 'AndExpression': {
      const left = sub(token.value.left)
      const right = sub(token.value.right)
      return (row) => left(row) === true && right(row) === true
    }
    case 'OrExpression': {
      const left = sub(token.value.left)
      const right = sub(token.value.right)
      return (row) => left(row) === true || right(row) === true
    }
    case 'NotExpression': {
      const inner = sub(token.value)
      return (row) => inner(row) !== true
    }
    case 'BoolParenExpression':
    case 'ParenExpression':
    case 'CommonExpression':
      return sub(token.value)
    case 'FirstMemberExpression':
    case 'MemberExpression':
    case 'PropertyPathExpression':
    case 'SingleNavigationExpression': {
      const path = memberPath(token)
      if (!propertyExists(path)) throw badQuery(`Could not find a property named '${path.join('/')}' to filter on.`)
      return (row) => readPath(row, path)
    }
    case 'Literal': {
      const value = literalValue(token)
      return () => value
    }
    case 'MethodCallExpression':
      return compileMethod(token.value.method as string, (token.value.parameters as Token[]).map(sub))
    default:
      throw badQuery(`The $filter construct '${token.raw ?? token.type}' is not supported.`)
  }
}

function compileMethod (method: string, args: Evaluate[]): Evaluate {
  const text = (row: Row, i: number): string | null => {
    const v = args[i](row)
    return typeof v === 'string' ? v : null
  }
  const binary = (test: (s: string, t: string) => boolean): Evaluate => {
    if (args.length !== 2) throw badQuery(`${method}() takes two arguments.`)
    return (row) => {
      const s = text(row, 0)
      const t = text(row, 1)
      return s !== null && t !== null && test(s, t)
    }
  }
  const unary = (map: (s: string) => unknown): Evaluate => {
    if (args.length !== 1) throw badQuery(`${method}() takes one argument.`)
    return (row) => {
      const s = text(row, 0)
      return s === null ? null : map(s)
    }
  }
  switch (method) {
    case 'contains': return binary((s, t) => s.includes(t))
    case 'startswith': return binary((s, t) => s.startsWith(t))
    case 'endswith': return binary((s, t) => s.endsWith(t))
    case 'tolower': return unary((s) => s.toLowerCase())
    case 'toupper': return unary((s) => s.toUpperCase())
    case 'trim': return unary((s) => s.trim())
    case 'length': return unary((s) => s.length)
    default: throw badQuery(`Unknown function '${method}' in $filter.`)
  }
}

/** `TrunkDN/Number` → ['TrunkDN', 'Number'] from the parser's member tokens. */
function memberPath (token: Token): string[] {
  if (token.type === 'ODataIdentifier') return [token.value.name as string]
  const v = token.value
  if (v !== null && typeof v === 'object' && 'current' in v) return [...memberPath(v.current as Token), ...memberPath(v.next as Token)]
  if (v !== null && typeof v === 'object' && typeof v.type === 'string') return memberPath(v as Token)
  throw badQuery(`Unsupported property expression '${token.raw ?? ''}' in $filter.`)
}

export function readPath (row: Row, path: readonly string[]): unknown {
  let current: unknown = row
  for (const name of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined
    current = (current as Row)[name]
  }
  return current
}

/** A filter literal as a JS value; dates become `Date` so they compare with ISO strings in rows. */
function literalValue (token: Token): unknown {
  const raw = token.raw ?? ''
  const type = token.value as string
  if (type === 'Edm.String') return unquote(raw)
  if (type === 'Edm.Boolean') return raw === 'true'
  if (type === 'null') return null
  if (INTEGER_TYPES.has(type)) return Number(raw)
  if (type === 'Edm.DateTimeOffset' || type === 'Edm.Date') {
    const d = new Date(type === 'Edm.Date' ? `${raw}T00:00:00Z` : raw)
    if (Number.isNaN(d.getTime())) throw badQuery(`Invalid date-time literal '${raw}'.`)
    return d
  }
  if (type === 'Edm.Guid') return raw
  throw badQuery(`Literals of type ${type} are not supported in $filter.`)
}

function compareValues (a: unknown, b: unknown, raw: string): number {
  if (a instanceof Date || b instanceof Date) {
    const x = a instanceof Date ? a.getTime() : typeof a === 'string' ? Date.parse(a) : NaN
    const y = b instanceof Date ? b.getTime() : typeof b === 'string' ? Date.parse(b) : NaN
    if (Number.isNaN(x) || Number.isNaN(y)) throw incompatible(a, b, raw)
    return x - y
  }
  if (typeof a !== typeof b) throw incompatible(a, b, raw)
  if (typeof a === 'number') return a - (b as number)
  if (typeof a === 'boolean') return Number(a) - Number(b)
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0
  throw badQuery(`Cannot compare complex values in '${raw}'.`)
}

function incompatible (a: unknown, b: unknown, raw: string): Error {
  const edm = (v: unknown): string => v instanceof Date ? 'Edm.DateTimeOffset' : typeof v === 'string' ? 'Edm.String' : typeof v === 'number' ? 'Edm.Int32' : typeof v === 'boolean' ? 'Edm.Boolean' : 'complex'
  return badQuery(`A binary operator with incompatible types was detected in '${raw}': found operand types '${edm(a)}' and '${edm(b)}'.`)
}
