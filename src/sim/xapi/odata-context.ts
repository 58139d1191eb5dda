// The `@odata.context` URL of an answer, as ASP.NET OData writes it: `…/$metadata#Users` for a
// collection, `#Users/$entity` for one entity, `#Users(Id,Number)` with $select, `#SystemStatus`
// for a singleton, `#Users(2)/Groups` for navigation, the result type for functions. Pure.
import type { PathSegment } from './xapi-path.js'
import type { QueryOptions } from './odata-query.js'
import { XAPI_MODEL } from './xapi-model.generated.js'

export function odataContext (base: string, segments: readonly PathSegment[], query: QueryOptions): string | null {
  const [first, second] = segments
  const root = first.name
  const isSet = XAPI_MODEL.entitySets[root] !== undefined
  const isSingleton = XAPI_MODEL.singletons[root] !== undefined
  if (!isSet && !isSingleton) return null
  const select = query.select !== undefined && !query.select.includes('*') ? `(${query.select.join(',')})` : ''
  if (segments.length === 1) {
    if (isSingleton) return `${base}/$metadata#${root}${select}`
    return `${base}/$metadata#${root}${select}${first.args === undefined ? '' : '/$entity'}`
  }
  if (segments.length === 2 && !second.name.startsWith('Pbx.')) {
    return `${base}/$metadata#${root}${first.args === undefined ? '' : `(${first.args})`}/${second.name}${select}`
  }
  return null
}
