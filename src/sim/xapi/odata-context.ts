// The `@odata.context` URL of an answer, as ASP.NET OData writes it: `…/$metadata#Users` for a
// collection, `#Users/$entity` for one entity, `#Users(Id,Number)` with $select, `#SystemStatus`
// for a singleton, `#Users(2)/Groups` for navigation, and for a function or action the type of its
// result: `#Pbx.SystemParameters`, `#Collection(Pbx.CallLogData)`, `#Edm.String`; a POST's 201 the
// created entity (`#Users/$entity`). Pure.
import type { PathSegment } from './xapi-path.js'
import type { QueryOptions } from './odata-query.js'
import type { XapiOperation, XapiValue } from './xapi-model-types.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import { operationsForPath } from './operation-match.js'

/** The EDM name of a result type (`Pbx.X`, `Edm.Int32`, `Collection(…)`); null when it has none. */
export function edmTypeName (value: XapiValue): string | null {
  switch (value.t) {
    case 'complex':
    case 'enum': return value.r
    case 'string': return value.f === 'date-time' ? 'Edm.DateTimeOffset' : value.f === 'uuid' ? 'Edm.Guid' : 'Edm.String'
    case 'integer': return value.f === 'int64' ? 'Edm.Int64' : 'Edm.Int32'
    case 'number': return 'Edm.Double'
    case 'boolean': return 'Edm.Boolean'
    case 'array':
    case 'collection': {
      const item = edmTypeName(value.i)
      return item === null ? null : `Collection(${item})`
    }
    default: return null
  }
}

/** The context of a function or action result: its return type, as the swagger gives it. */
function operationContext (base: string, segments: readonly PathSegment[], method: XapiOperation['method']): string | null {
  const op = operationsForPath(segments).find((c) => c.op.method === method)?.op
  const type = op?.response === undefined ? null : edmTypeName(op.response)
  // Pbx.IActionResult is ASP.NET's "any result" (DropCall, DownloadRecording): 3CX names no type for it.
  return type === null || type === 'Pbx.IActionResult' ? null : `${base}/$metadata#${type}`
}

export function odataContext (base: string, segments: readonly PathSegment[], query: QueryOptions, method: XapiOperation['method'] = 'get'): string | null {
  const [first, second] = segments
  if (segments[segments.length - 1].name.startsWith('Pbx.')) return operationContext(base, segments, method)
  const root = first.name
  const isSet = XAPI_MODEL.entitySets[root] !== undefined
  const isSingleton = XAPI_MODEL.singletons[root] !== undefined
  if (!isSet && !isSingleton) return null
  const select = query.select !== undefined && !query.select.includes('*') ? `(${query.select.join(',')})` : ''
  if (segments.length === 1) {
    if (isSingleton) return `${base}/$metadata#${root}${select}`
    // A POST to a set answers the entity it created.
    const entity = first.args !== undefined || method === 'post'
    return `${base}/$metadata#${root}${select}${entity ? '/$entity' : ''}`
  }
  if (segments.length === 2) {
    return `${base}/$metadata#${root}${first.args === undefined ? '' : `(${first.args})`}/${second.name}${select}`
  }
  return null
}
