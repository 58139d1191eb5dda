// Schema-valid values for anything the generated XAPI model describes: a record with every property
// of its type (what a fresh PBX object looks like before seed data or a client's body goes on top),
// and the answer of a function or action the simulator does not compute. Pure.
import type { XapiValue } from './xapi-model-types.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import type { Row } from './odata-filter.js'

/** Nested complex values below this depth are null (or {}), so recursive types stay finite. */
const MAX_DEPTH = 2
const EPOCH = '2025-01-01T00:00:00Z'

const STRING_FORMATS: Readonly<Record<string, string>> = {
  'date-time': EPOCH,
  date: '2025-01-01',
  uuid: '00000000-0000-0000-0000-000000000000',
  duration: 'PT0S',
  time: '00:00:00'
}

export function defaultValue (spec: XapiValue, depth = 0): unknown {
  switch (spec.t) {
    case 'string': return spec.e?.[0] ?? STRING_FORMATS[spec.f ?? ''] ?? ''
    case 'integer':
    case 'number': return 0
    case 'boolean': return false
    case 'enum': return XAPI_MODEL.enums[spec.r]?.[0] ?? null
    case 'array': return []
    case 'collection': return { value: [defaultValue(spec.i, depth + 1)] }
    case 'object': return objectOf(spec.p, depth)
    case 'complex':
      if (depth >= MAX_DEPTH) return spec.n === true ? null : {}
      return defaultRecord(spec.r, depth + 1)
    default: return null
  }
}

function objectOf (properties: Readonly<Record<string, XapiValue>>, depth: number): Row {
  const out: Row = {}
  for (const [name, spec] of Object.entries(properties)) out[name] = defaultValue(spec, depth)
  return out
}

/** A record of `typeName` with every declared property (navigation collections empty). */
export function defaultRecord (typeName: string, depth = 0): Row {
  const type = XAPI_MODEL.types[typeName]
  return type === undefined ? {} : objectOf(type.properties, depth)
}

/** Does `value` fit `spec` (shallowly: complex values need only be objects)? For request bodies. */
export function fitsSpec (spec: XapiValue, value: unknown): boolean {
  if (value === null) return true
  switch (spec.t) {
    case 'string': return typeof value === 'string' && (spec.e === undefined || spec.e.includes(value))
    case 'integer': return Number.isInteger(value)
    case 'number': return typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))
    case 'boolean': return typeof value === 'boolean'
    case 'enum': return typeof value === 'string' && (XAPI_MODEL.enums[spec.r] ?? []).some((v) => value.split(/,\s*/).includes(v))
    case 'array': return Array.isArray(value) && value.every((item) => fitsSpec(spec.i, item))
    case 'complex':
    case 'object': return typeof value === 'object' && !Array.isArray(value)
    default: return true
  }
}

/** The Edm name of a value spec, for messages and $metadata. */
export function edmName (spec: XapiValue): string {
  switch (spec.t) {
    case 'string': return spec.f === 'date-time' ? 'Edm.DateTimeOffset' : spec.f === 'uuid' ? 'Edm.Guid' : spec.f === 'duration' ? 'Edm.Duration' : spec.f === 'date' ? 'Edm.Date' : 'Edm.String'
    case 'integer': return spec.f === 'int64' ? 'Edm.Int64' : 'Edm.Int32'
    case 'number': return spec.f === 'double' ? 'Edm.Double' : 'Edm.Decimal'
    case 'boolean': return 'Edm.Boolean'
    case 'enum':
    case 'complex': return spec.r
    case 'array':
    case 'collection': return `Collection(${edmName(spec.i)})`
    default: return 'Edm.Untyped'
  }
}
