// Finds the swagger operation a request addresses: each path template of the generated model
// (`/Users({Id})/Pbx.GetPhoneSecret()`, `/Fax(Number={Number})`, `/Trunks/Pbx.InitTrunk(template={template})`)
// is compiled once into segment patterns; a request's parsed segments match one when every name is
// equal and every argument has the template's form (key, alternate key, function parameters). Pure.
import type { XapiOperation, XapiValue } from './xapi-model-types.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import { parseLiteral, splitTopLevel } from './odata-literal.js'
import { parseResourcePath, type PathSegment } from './xapi-path.js'
import { parseFunctionParams, type ParamSpec, type ParamType, type ParamValues } from './function-params.js'

type ArgPattern =
  | { kind: 'none' }
  | { kind: 'empty' }
  | { kind: 'key', name: string, type: 'integer' | 'string' }
  | { kind: 'alternate', name: string }
  | { kind: 'params', spec: ParamSpec }

interface SegmentPattern { name: string, arg: ArgPattern }

export interface CompiledOperation { op: XapiOperation, segments: SegmentPattern[] }

/** What a matched request binds: the key of each keyed segment (by index) and function parameters. */
export interface OperationMatch {
  op: XapiOperation
  keys: Map<number, { name: string, value: string | number }>
  params: ParamValues
}

function paramType (spec: XapiValue | undefined): ParamType {
  if (spec === undefined) return 'any'
  if (spec.t === 'integer') return 'int'
  if (spec.t === 'boolean') return 'bool'
  if (spec.t === 'string' && spec.f === 'date-time') return 'datetime'
  if (spec.t === 'string') return 'string'
  return 'any'
}

function compileArg (op: XapiOperation, name: string, args: string | undefined): ArgPattern {
  if (args === undefined) return { kind: 'none' }
  if (args === '') return { kind: 'empty' }
  const key = /^\{(\w+)\}$/.exec(args)
  if (key !== null) return { kind: 'key', name: key[1], type: op.params[key[1]]?.t === 'string' ? 'string' : 'integer' }
  const parts = splitTopLevel(args, ',') ?? []
  const names = parts.map((p) => /^(\w+)=\{\w+\}$/.exec(p)?.[1] ?? '')
  if (!name.startsWith('Pbx.') && names.length === 1) return { kind: 'alternate', name: names[0] }
  return { kind: 'params', spec: Object.fromEntries(names.map((n) => [n, paramType(op.params[n])])) }
}

export function compileOperation (op: XapiOperation): CompiledOperation {
  const segments = parseResourcePath(op.path) ?? []
  return { op, segments: segments.map((s) => ({ name: s.name, arg: compileArg(op, s.name, s.args) })) }
}

export const COMPILED_OPERATIONS: readonly CompiledOperation[] = XAPI_MODEL.operations.map(compileOperation)

/** The names of a function call's parameters, or null when the text is not `a=…,b=…`. */
function paramNames (args: string): string[] | null {
  const parts = args.trim() === '' ? [] : splitTopLevel(args, ',')
  if (parts === null) return null
  const names: string[] = []
  for (const part of parts) {
    const m = /^\s*([A-Za-z_]\w*)\s*=/.exec(part)
    if (m === null) return null
    names.push(m[1])
  }
  return names
}

function argMatches (pattern: ArgPattern, args: string | undefined): boolean {
  switch (pattern.kind) {
    case 'none': return args === undefined
    case 'empty': return args !== undefined && args.trim() === ''
    case 'key': {
      if (args === undefined) return false
      const literal = parseLiteral(args)
      return pattern.type === 'integer' ? literal?.type === 'int' : literal?.type === 'string'
    }
    case 'alternate': {
      const m = args === undefined ? null : /^\s*(\w+)\s*=(.*)$/s.exec(args)
      return m !== null && m[1] === pattern.name && parseLiteral(m[2])?.type === 'string'
    }
    case 'params': {
      const names = args === undefined ? null : paramNames(args)
      const expected = Object.keys(pattern.spec)
      return names !== null && names.length === expected.length && expected.every((n) => names.includes(n))
    }
  }
}

/** Operations whose path the segments address, whatever the method. */
export function operationsForPath (segments: readonly PathSegment[], compiled: readonly CompiledOperation[] = COMPILED_OPERATIONS): CompiledOperation[] {
  return compiled.filter((c) => c.segments.length === segments.length &&
    c.segments.every((p, i) => p.name === segments[i].name && argMatches(p.arg, segments[i].args)))
}

/** Binds keys and parameters of a compiled operation the segments matched (wrong parameter types → 500). */
export function bindOperation (compiled: CompiledOperation, segments: readonly PathSegment[]): OperationMatch {
  const keys: OperationMatch['keys'] = new Map()
  let params: ParamValues = {}
  compiled.segments.forEach((pattern, i) => {
    const args = segments[i].args ?? ''
    if (pattern.arg.kind === 'key') keys.set(i, { name: pattern.arg.name, value: parseLiteral(args)?.value as string | number })
    if (pattern.arg.kind === 'alternate') keys.set(i, { name: pattern.arg.name, value: parseLiteral(args.slice(args.indexOf('=') + 1))?.value as string })
    if (pattern.arg.kind === 'params') params = parseFunctionParams(pattern.name, args, pattern.arg.spec)
  })
  return { op: compiled.op, keys, params }
}
