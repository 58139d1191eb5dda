// $filter: parsed by @odata/parser, compiled here into a predicate over plain JSON rows.
//
// Parser choice: @odata/parser (0.2.x) and odata-v4-parser (0.1.x, its ancestor) produce the same AST
// and both accept every filter 3CX clients send (bare ISO date-times, `''` escapes, nav paths such as
// `TrunkDN/Number`, contains/startswith, not, parentheses). Both fail the same way on nested expand
// options (`$expand=X($filter=A eq 'b';$select=C)` fails at 0), so $expand/$select/$orderby are split
// by hand (odata-query.ts) and only $filter goes through the parser. @odata/parser is the maintained
// fork with types, so that is the one used.
import { createRequire } from 'node:module'
import type { defaultParser as DefaultParser } from '@odata/parser'
import { badQuery } from './odata-error.js'
import { splitTopLevel, unquote } from './odata-literal.js'

export type Row = Record<string, unknown>
export type RowPredicate = (row: Row) => boolean
/** Lambda variables in scope (`g` in `Groups/any(g: …)`) and their current items. */
type Env = Readonly<Record<string, unknown>>
type Evaluate = (row: Row, env: Env) => unknown

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

let parser: typeof DefaultParser | null = null

/** The parser, loaded at the first $filter: it is a tenth of a second of CPU to load, and most simulator processes (the demo's among them) may never filter. */
function filterParser (): typeof DefaultParser {
  parser ??= (createRequire(import.meta.url)('@odata/parser') as { defaultParser: typeof DefaultParser }).defaultParser
  return parser
}

/** Compiles a $filter expression; throws a 400 ODataError on syntax errors, unknown properties or functions. */
export function compileFilter (text: string, propertyExists: PropertyCheck): RowPredicate {
  let ast: Token
  try {
    ast = filterParser().filter(rewriteIn(text)) as Token
  } catch (err) {
    throw badQuery(`Syntax error in $filter '${text}': ${(err as Error).message}.`)
  }
  const evaluate = compile(ast, propertyExists)
  return (row) => evaluate(row, {}) === true
}

function compile (token: Token, propertyExists: PropertyCheck): Evaluate {
  const sub = (t: Token): Evaluate => compile(t, propertyExists)
  const compare = COMPARISONS[token.type]
  if (compare !== undefined) {
    const left = sub(token.value.left)
    const right = sub(token.value.right)
    const isEquality = token.type === 'EqualsExpression' || token.type === 'NotEqualsExpression'
    return (row, env) => {
      const a = left(row, env)
      const b = right(row, env)
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
      return (row, env) => left(row, env) === true && right(row, env) === true
    }
    case 'OrExpression': {
      const left = sub(token.value.left)
      const right = sub(token.value.right)
      return (row, env) => left(row, env) === true || right(row, env) === true
    }
    case 'NotExpression': {
      const inner = sub(token.value)
      return (row, env) => inner(row, env) !== true
    }
    case 'LambdaPredicateExpression':
    case 'BoolParenExpression':
    case 'ParenExpression':
    case 'CommonExpression':
      return sub(token.value)
    case 'FirstMemberExpression':
    case 'MemberExpression':
    case 'PropertyPathExpression':
    case 'SingleNavigationExpression': {
      const special = compileVariableOrLambda(token, propertyExists)
      if (special !== null) return special
      const path = memberPath(token)
      if (!propertyExists(path)) throw badQuery(`Could not find a property named '${path.join('/')}' to filter on.`)
      return (row) => readPath(row, path)
    }
    case 'Literal': {
      const value = literalValue(token)
      return () => value
    }
    case 'Enum': {
      const value = enumMembers(token).join(', ')
      return () => value
    }
    case 'HasExpression': {
      const left = sub(token.value.left)
      const members = enumMembers(token.value.right)
      return (row, env) => {
        const flags = left(row, env)
        return typeof flags === 'string' && members.every((m) => flags.split(/,\s*/).includes(m))
      }
    }
    case 'AddExpression':
    case 'SubExpression':
    case 'MulExpression':
    case 'DivExpression':
    case 'ModExpression':
      return compileArithmetic(token, sub)
    case 'NegateExpression': {
      const inner = sub(token.value)
      return (row, env) => {
        const v = inner(row, env)
        if (v === null || v === undefined) return null
        if (typeof v !== 'number') throw incompatible(v, 0, token.raw ?? '')
        return -v
      }
    }
    case 'MethodCallExpression':
      return compileMethod(token.value.method as string, (token.value.parameters as Token[]).map(sub))
    default:
      throw badQuery(`The $filter construct '${token.raw ?? token.type}' is not supported.`)
  }
}

const ARITHMETIC: Readonly<Record<string, (a: number, b: number, integral: boolean) => number | null>> = {
  AddExpression: (a, b) => a + b,
  SubExpression: (a, b) => a - b,
  MulExpression: (a, b) => a * b,
  // Integer operands divide as C# does (truncated; by zero: no value); a decimal operand divides exactly.
  DivExpression: (a, b, integral) => integral ? (b === 0 ? null : Math.trunc(a / b)) : a / b,
  ModExpression: (a, b) => b === 0 ? null : a % b
}

/** `Id add 1`, `sub`, `mul`, `div`, `mod` on numbers; a null operand gives null, as in OData. */
function compileArithmetic (token: Token, sub: (t: Token) => Evaluate): Evaluate {
  const op = ARITHMETIC[token.type]
  const left = sub(token.value.left)
  const right = sub(token.value.right)
  // Integer division unless a literal operand is fractional (`Id div 2.0` is 0.5 for Id 1).
  const integralLiterals = [token.value.left, token.value.right].every((t: Token) => t.type !== 'Literal' || !/^Edm\.(Decimal|Double|Single)$/.test(t.value as string))
  return (row, env) => {
    const a = left(row, env)
    const b = right(row, env)
    if (a === null || a === undefined || b === null || b === undefined) return null
    if (typeof a !== 'number' || typeof b !== 'number') throw incompatible(a, b, token.raw ?? '')
    return op(a, b, integralLiterals && Number.isInteger(a) && Number.isInteger(b))
  }
}

function compileMethod (method: string, args: Evaluate[]): Evaluate {
  const text = (row: Row, env: Env, i: number): string | null => {
    const v = args[i](row, env)
    return typeof v === 'string' ? v : null
  }
  const binary = (test: (s: string, t: string) => unknown): Evaluate => {
    if (args.length !== 2) throw badQuery(`${method}() takes two arguments.`)
    return (row, env) => {
      const s = text(row, env, 0)
      const t = text(row, env, 1)
      return s !== null && t !== null ? test(s, t) : null
    }
  }
  const unary = (map: (s: string) => unknown): Evaluate => {
    if (args.length !== 1) throw badQuery(`${method}() takes one argument.`)
    return (row, env) => {
      const s = text(row, env, 0)
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
    case 'indexof': return binary((s, t) => s.indexOf(t))
    case 'concat': return binary((s, t) => s + t)
    case 'year': return datePart(args, (d) => d.getUTCFullYear())
    case 'month': return datePart(args, (d) => d.getUTCMonth() + 1)
    case 'day': return datePart(args, (d) => d.getUTCDate())
    case 'hour': return datePart(args, (d) => d.getUTCHours())
    case 'minute': return datePart(args, (d) => d.getUTCMinutes())
    case 'second': return datePart(args, (d) => d.getUTCSeconds())
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

/** year(…)…second(…); the parser already refuses any other number of arguments. */
function datePart (args: Evaluate[], part: (d: Date) => number): Evaluate {
  return (row, env) => {
    const v = args[0](row, env)
    const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : null
    return d === null || Number.isNaN(d.getTime()) ? null : part(d)
  }
}

/** `Pbx.QueueStatusType'LoggedIn'` → ['LoggedIn'] (flags: several members). */
function enumMembers (token: Token): string[] {
  const values = token.value?.value?.value?.values as Token[] | undefined
  if (token.type !== 'Enum' || values === undefined) throw badQuery(`'${token.raw ?? ''}' is not an enum literal.`)
  return values.map((v) => v.value.name as string)
}

/** Lambda variables (`g`, `g/GroupId`) and lambdas (`Groups/any(g: …)`, `all`); null for plain properties. */
function compileVariableOrLambda (token: Token, propertyExists: PropertyCheck): Evaluate | null {
  const v = token.value
  if (token.type === 'FirstMemberExpression' && Array.isArray(v) && v[0]?.type === 'LambdaVariableExpression') {
    const name = v[0].value.name as string
    const path = memberPath(v[1] as Token)
    return (_row, env) => readPath(env[name] as Row, path)
  }
  if (v?.type === 'LambdaVariableExpression') {
    const name = v.value.name as string
    return (_row, env) => env[name]
  }
  if (v !== null && typeof v === 'object' && v.next?.type === 'CollectionPathExpression') {
    const path = memberPath(v.current as Token)
    if (!propertyExists(path)) throw badQuery(`Could not find a property named '${path.join('/')}' to filter on.`)
    const lambda = v.next.value as Token
    const isAny = lambda.type === 'AnyExpression'
    if (!isAny && lambda.type !== 'AllExpression') throw badQuery(`The $filter construct '${token.raw ?? ''}' is not supported.`)
    const variable = lambda.value?.variable?.value?.name as string | undefined
    const predicate = variable === undefined ? null : compile(lambda.value.predicate as Token, propertyExists)
    return (row, env) => {
      const items = readPath(row, path)
      if (!Array.isArray(items)) return false
      if (predicate === null || variable === undefined) return isAny ? items.length > 0 : true
      const test = (item: unknown): boolean => predicate(row, { ...env, [variable]: item }) === true
      return isAny ? items.some(test) : items.every(test)
    }
  }
  if (v !== null && typeof v === 'object' && typeof v.type === 'string') return compileVariableOrLambda(v as Token, propertyExists)
  return null
}

/**
 * `X in ('a','b')` → `(X eq 'a' or X eq 'b')`: the parser predates OData 4.01's `in`. Only text
 * outside string literals is rewritten.
 */
export function rewriteIn (text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    if (text[i] === "'") {
      const end = closingQuote(text, i)
      out += text.slice(i, end + 1)
      i = end + 1
      continue
    }
    const m = /^([A-Za-z_][\w/]*)\s+in\s+\(/.exec(text.slice(i))
    if (m !== null && (i === 0 || /[\s(]/.test(text[i - 1]))) {
      const open = i + m[0].length - 1
      const close = closingParen(text, open)
      const items = splitTopLevel(text.slice(open + 1, close), ',')
      if (items === null || items.length === 0 || close < 0) throw badQuery(`Invalid 'in' list in $filter '${text}'.`)
      out += `(${items.map((item) => `${m[1]} eq ${item.trim()}`).join(' or ')})`
      i = close + 1
      continue
    }
    out += text[i]
    i++
  }
  return out
}

function closingQuote (text: string, start: number): number {
  let i = start + 1
  while (i < text.length) {
    if (text[i] === "'" && text[i + 1] === "'") { i += 2; continue }
    if (text[i] === "'") return i
    i++
  }
  return text.length - 1
}

function closingParen (text: string, open: number): number {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === "'") { i = closingQuote(text, i); continue }
    if (text[i] === '(') depth++
    if (text[i] === ')' && --depth === 0) return i
  }
  return -1
}
