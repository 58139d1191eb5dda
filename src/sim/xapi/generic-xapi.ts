// Every swagger operation the hand-written XAPI (xapi-read/xapi-actions) does not answer: entity
// sets and singletons read, created, changed and deleted in the EntityStore, navigation properties,
// and bound/unbound functions and actions answered with schema-valid data (computed where a PBX
// would compute it, function-results.ts). Driven by the generated model; returns null when no
// operation of the swagger has the path.
import type { SimContext } from '../sim-context.js'
import { ODataError, badQuery, notFound } from './odata-error.js'
import type { Row } from './odata-filter.js'
import { applyToCollection, shapeEntity, type EntityShape, type QueryOptions } from './odata-query.js'
import type { PathSegment } from './xapi-path.js'
import type { XapiResult } from './xapi-read.js'
import type { XapiValue } from './xapi-model-types.js'
import { XAPI_MODEL } from './xapi-model.generated.js'
import { bindOperation, operationsForPath, type OperationMatch } from './operation-match.js'
import { defaultRecord, defaultValue, fitsSpec } from './schema-defaults.js'
import { computedResult } from './function-results.js'

export interface GenericRequest {
  method: 'get' | 'post' | 'patch' | 'delete'
  segments: PathSegment[]
  query: QueryOptions
  body: unknown
  /** Base URL of the XAPI (`http://host/xapi/v1`), for Location headers. */
  base: string
}

const shapes = new Map<string, EntityShape>()

/** The query shape of a schema type: its navigation properties and their types. */
export function shapeOf (typeName: string): EntityShape {
  let shape = shapes.get(typeName)
  if (shape === undefined) {
    const type = XAPI_MODEL.types[typeName]
    const navigation: Record<string, EntityShape> = {}
    for (const name of type?.navigation ?? []) {
      const spec = type.properties[name]
      const target = spec.t === 'array' ? spec.i : spec
      navigation[name] = { typeName: target.t === 'complex' ? target.r : 'Edm.Untyped' }
    }
    shape = { typeName, navigation }
    shapes.set(typeName, shape)
  }
  return shape
}

const json = (body: unknown, status = 200): XapiResult => ({ kind: 'json', status, body })
const noContent: XapiResult = { kind: 'json', status: 204, body: undefined }

/** Checks a body against a type: unknown properties, wrong types and changed keys are 400. */
export function checkBody (typeName: string, body: unknown, current?: Row, readOnly: readonly string[] = []): Row {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badQuery(`The request body must be a JSON object with ${typeName} properties.`)
  const properties = XAPI_MODEL.types[typeName]?.properties ?? {}
  const out: Row = {}
  for (const [name, value] of Object.entries(body as Row)) {
    if (name.startsWith('@odata.')) continue
    const spec = properties[name]
    if (spec === undefined) throw badQuery(`The property '${name}' does not exist on type '${typeName}'. Make sure to only use property names that are defined by the type.`)
    if (!fitsSpec(spec, value)) throw badQuery(`Cannot convert the literal '${JSON.stringify(value)}' to the expected type of '${typeName}.${name}'.`)
    if (current !== undefined && readOnly.includes(name) && JSON.stringify(current[name]) !== JSON.stringify(value)) {
      throw badQuery(`The property '${name}' of ${typeName} cannot be changed.`)
    }
    out[name] = value
  }
  return out
}

function keyLiteral (value: unknown): string {
  return typeof value === 'string' ? `'${value.replace(/'/g, "''")}'` : String(value)
}

/** The record a path's first segment addresses (an entity by key, or a singleton); null for a collection. */
function rootRecord (ctx: SimContext, match: OperationMatch, segments: PathSegment[]): Row | null {
  const root = segments[0].name
  const key = match.keys.get(0)
  if (XAPI_MODEL.singletons[root] !== undefined) return ctx.store.singleton(root)
  if (key === undefined) return null
  const set = XAPI_MODEL.entitySets[root]
  const row = ctx.store.find(root, key.name, key.value)
  if (row === undefined) throw notFound(`No ${set.type} with key ${segments[0].args ?? ''} exists.`)
  return row
}

function rootType (root: string): string {
  return XAPI_MODEL.entitySets[root]?.type ?? XAPI_MODEL.singletons[root]?.type ?? ''
}

function navigation (record: Row, typeName: string, name: string, query: QueryOptions): XapiResult {
  const spec: XapiValue | undefined = XAPI_MODEL.types[typeName]?.properties[name]
  if (spec === undefined) throw notFound(`${typeName} has no property '${name}'.`)
  const value = record[name] ?? defaultValue(spec, 1)
  if (spec.t === 'array') {
    const itemType = spec.i.t === 'complex' ? spec.i.r : 'Edm.Untyped'
    const rows = (value as unknown[]).map((v) => (v !== null && typeof v === 'object' ? v : { value: v }) as Row)
    return json(applyToCollection(rows, query, shapeOf(itemType)))
  }
  if (value === null) return noContent
  return json(shapeEntity(value as Row, query, shapeOf(spec.t === 'complex' ? spec.r : '')))
}

function entityOperation (ctx: SimContext, req: GenericRequest, match: OperationMatch): XapiResult {
  const { segments, query } = req
  const root = segments[0].name
  const typeName = rootType(root)
  if (segments.length === 2) return navigation(rootRecord(ctx, match, segments) as Row, typeName, segments[1].name, query)
  const record = rootRecord(ctx, match, segments)
  const set = XAPI_MODEL.entitySets[root]
  switch (req.method) {
    case 'get':
      if (record === null) return json(applyToCollection(ctx.store.rows(root), query, shapeOf(typeName)))
      return json(shapeEntity(record, query, shapeOf(typeName)))
    case 'post': {
      const created = ctx.store.create(root, checkBody(typeName, req.body))
      return { kind: 'json', status: 201, body: shapeEntity(created, {}, shapeOf(typeName)), location: `${req.base}/${root}(${keyLiteral(created[set.key])})` }
    }
    case 'patch': {
      const target = record as Row
      // The key, and a DN's number once it has one, cannot change (3CX: "Number cannot be changed").
      const readOnly = [...(set === undefined ? [] : [set.key]), ...(typeof target.Number === 'string' && target.Number !== '' ? ['Number'] : [])]
      Object.assign(target, checkBody(typeName, req.body, target, readOnly))
      return noContent
    }
    default:
      ctx.store.remove(root, record as Row)
      return noContent
  }
}

/** Answers a request by the swagger's operation for its path; null when the swagger has no such path. */
export function genericXapi (ctx: SimContext, req: GenericRequest): XapiResult | null {
  const candidates = operationsForPath(req.segments)
  if (candidates.length === 0) return null
  const compiled = candidates.find((c) => c.op.method === req.method)
  if (compiled === undefined) {
    throw new ODataError(405, 'MethodNotAllowed', `${req.method.toUpperCase()} is not allowed on this resource; it allows ${[...new Set(candidates.map((c) => c.op.method.toUpperCase()))].join(', ')}.`)
  }
  const match = bindOperation(compiled, req.segments)
  const { op } = match
  if (op.kind === 'operation') return entityOperation(ctx, req, match)
  const record = XAPI_MODEL.entitySets[req.segments[0].name] !== undefined || XAPI_MODEL.singletons[req.segments[0].name] !== undefined
    ? rootRecord(ctx, match, req.segments)
    : null
  const computed = computedResult(ctx, op, match.params, record, req.body)
  if (computed !== undefined) return computed === null ? noContent : json(computed)
  if (op.status === 204 || op.response === undefined) return noContent
  const value = defaultValue(op.response)
  if (op.response.t === 'complex' && value !== null) return json(value)
  if (op.response.t === 'collection' && op.response.i.t === 'complex') return json(applyToCollection((value as { value: Row[] }).value, req.query, shapeOf(op.response.i.r)))
  // A primitive or enum result comes wrapped, as OData serialises it: {"value": …}.
  return json(op.response.t === 'enum' || value === null || typeof value !== 'object' ? { value } : value)
}

export { defaultRecord }
