// YAML files an operator writes by hand (the simulator's PBX file, the gateway's TENANTS_FILE),
// parsed with their line numbers and checked field by field against a declared shape, so every
// mistake is reported as `file:line: path.to.field: what is wrong`.
import { LineCounter, parseDocument } from 'yaml'

export type FieldKind = 'string' | 'number' | 'boolean' | 'strings' | 'object' | 'list' | 'objects'
export interface FieldSpec { kind: FieldKind, required?: boolean, oneOf?: readonly string[] }
export type Shape = Readonly<Record<string, FieldSpec>>
export type YamlPath = ReadonlyArray<string | number>

/** A parsed YAML file: its plain value and where each path of it is (`file:line`). */
export interface YamlFile {
  value: unknown
  /** `file:line` of the node at `path` (line 1 when the path is not in the file). */
  where: (path: YamlPath) => string
  /** `file:line: a.b[2].c: message`. */
  describe: (path: YamlPath, message: string) => string
}

/** A syntax error of the YAML itself, already worded `file:line: message`. */
export class YamlSyntaxError extends Error {}

/** `users[3].number`: the path as a reader of the file writes it. */
export function fieldName (path: YamlPath): string {
  return path.map((p, i) => typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`).join('')
}

/** Parses `text` (read from `file`); throws YamlSyntaxError naming the line of the first syntax error. */
export function parseYamlFile (text: string, file: string): YamlFile {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  if (doc.errors.length > 0) throw new YamlSyntaxError(`${file}:${doc.errors[0].linePos?.[0].line ?? 1}: ${doc.errors[0].message}`)
  const where = (path: YamlPath): string => {
    const node = doc.getIn(path as unknown[], true) as { range?: [number] } | undefined
    const line = node?.range === undefined ? 1 : lineCounter.linePos(node.range[0]).line
    return `${file}:${line}`
  }
  const describe = (path: YamlPath, message: string): string => {
    const field = fieldName(path)
    return `${where(path)}: ${field === '' ? '' : `${field}: `}${message}`
  }
  return { value: doc.toJS() as unknown, where, describe }
}

export function isMapping (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function fits (kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string'
    case 'number': return typeof value === 'number' && Number.isFinite(value)
    case 'boolean': return typeof value === 'boolean'
    case 'strings': return Array.isArray(value) && value.every((v) => typeof v === 'string')
    case 'object': return isMapping(value)
    case 'list': return value === 'all' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    case 'objects': return Array.isArray(value) && value.every(isMapping)
  }
}

function expected (kind: FieldKind): string {
  switch (kind) {
    case 'strings': return 'a list of strings (quote numbers: \'101\')'
    case 'list': return "'all' or a list of numbers"
    case 'objects': return 'a list of mappings'
    case 'string': return 'a string (quote numbers: \'101\')'
    default: return `a ${kind}`
  }
}

/**
 * Checks one mapping against `shape`: unknown fields, wrong kinds, values outside `oneOf`, missing
 * required fields. Each problem goes to `report(path, message)`; returns whether there was none.
 */
export function checkShape (item: unknown, shape: Shape, path: YamlPath, report: (path: YamlPath, message: string) => void): item is Record<string, unknown> {
  if (!isMapping(item)) { report(path, 'must be a mapping'); return false }
  let ok = true
  const bad = (p: YamlPath, m: string): void => { ok = false; report(p, m) }
  for (const [field, value] of Object.entries(item)) {
    const spec = shape[field]
    if (spec === undefined) bad([...path, field], `unknown field; use one of ${Object.keys(shape).join(', ')}`)
    else if (!fits(spec.kind, value)) bad([...path, field], `must be ${expected(spec.kind)}`)
    else if (spec.oneOf !== undefined && !spec.oneOf.includes(value as string)) bad([...path, field], `must be one of ${spec.oneOf.join(', ')}`)
  }
  for (const [field, spec] of Object.entries(shape)) if (spec.required === true && !(field in item)) bad(path, `'${field}' is required`)
  return ok
}
