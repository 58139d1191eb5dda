// GET on XAPI paths: directory entity sets and keys, their navigation collections, SystemStatus,
// ActiveCalls, CallHistoryView, Recordings (list and download) and the report functions.
import path from 'node:path'
import type { SimContext } from '../sim-context.js'
import type { SimApiClient, SimCallRecord } from '../sim-types.js'
import { ODataError, notFound } from './odata-error.js'
import type { Row } from './odata-filter.js'
import { applyToCollection, shapeEntity, type EntityShape, type QueryOptions } from './odata-query.js'
import { parseEntityKey, type PathSegment } from './xapi-path.js'
import { ENTITY_SETS, systemStatus } from './directory-entities.js'
import { activeCallRow, historyRows, recordingRows } from './call-rows.js'
import { REPORT_FUNCTIONS, type ReportDirectory, type ReportFunction } from './report-rows.js'
import { QUEUE_CALLBACK_REPORTS } from './queue-callback-rows.js'
import { parseFunctionParams } from './function-params.js'
import { callRecords } from './record-source.js'
import { recordsInScope, requireRowInScope, rowsInScope } from './client-scope.js'

export type XapiResult =
  | { kind: 'json', status: number, body: unknown, location?: string }
  | { kind: 'file', filePath: string, fileName: string }
  | { kind: 'text', body: string }

const json = (body: unknown): XapiResult => ({ kind: 'json', status: 200, body })

const REPORTS: readonly ReportFunction[] = [...REPORT_FUNCTIONS, ...QUEUE_CALLBACK_REPORTS]

const ACTIVE_CALL: EntityShape = { typeName: 'Pbx.ActiveCall' }
const HISTORY: EntityShape = { typeName: 'Pbx.CallHistoryView' }
const RECORDING: EntityShape = { typeName: 'Pbx.Recording' }

/** Sets a SystemAdmin-role client may not read (3CX answers 403 there). */
function requireOwner (client: SimApiClient | undefined, what: string): void {
  if (client?.role === 'SystemAdmin') throw new ODataError(403, 'Forbidden', `${what} requires a System Owner API client; this client has the System Admin role.`)
}

/** A path the hand-written XAPI does not serve: the generic XAPI (generic-xapi.ts) may. */
export class UnmatchedPath extends ODataError {}

export const unknownPath = (segments: readonly PathSegment[]): ODataError =>
  new UnmatchedPath(404, 'NotFound', `No resource matches the path '${segments.map((s) => s.args === undefined ? s.name : `${s.name}(${s.args})`).join('/')}'.`)

/** Finds the directory entity addressed by `Set(key)`; 404 when there is none. */
export function findEntity (ctx: SimContext, segment: PathSegment): Row {
  const set = ENTITY_SETS[segment.name]
  if (set === undefined || segment.args === undefined) throw unknownPath([segment])
  const key = parseEntityKey(segment.args)
  if (key === null || (key.kind === 'number' && !set.alternateKeyNumber)) throw notFound(`'${segment.args}' is not a valid key for ${segment.name}.`)
  const rows = set.rows(ctx.directory)
  const found = key.kind === 'id' ? rows.find((r) => r.Id === key.id) : rows.find((r) => r.Number === key.number)
  if (found === undefined) throw notFound(`No ${set.shape.typeName} with key ${segment.args} exists.`)
  return found
}

export function readXapi (ctx: SimContext, segments: PathSegment[], query: QueryOptions, client: SimApiClient | undefined, now = new Date()): XapiResult {
  const [first, second] = segments
  if (segments.length > 2) throw unknownPath(segments)

  const set = ENTITY_SETS[first.name]
  if (set !== undefined) {
    if (first.args === undefined) {
      if (second !== undefined) throw unknownPath(segments)
      return json(applyToCollection(rowsInScope(ctx.directory, client, first.name, set.rows(ctx.directory)), query, set.shape))
    }
    // Outside the client's department: 403 (xapi-plugin.ts checks every method on a keyed entity).
    const entity = findEntity(ctx, first)
    if (second === undefined) return json(shapeEntity(entity, query, set.shape))
    const nav = set.shape.navigation?.[second.name]
    if (nav === undefined || second.args !== undefined) throw unknownPath(segments)
    const value = entity[second.name]
    if (Array.isArray(value)) return json(applyToCollection(value as Row[], query, nav))
    return json(shapeEntity(value as Row, query, nav))
  }

  switch (first.name) {
    case 'SystemStatus': {
      if (first.args !== undefined || second !== undefined) throw unknownPath(segments)
      return json(shapeEntity(systemStatus(ctx.directory, ctx.engine.activeCalls()), query, { typeName: 'Pbx.SystemStatus' }))
    }
    case 'ActiveCalls': {
      if (first.args !== undefined || second !== undefined) throw unknownPath(segments)
      const rows = recordsInScope(ctx.directory, client, ctx.engine.records()).filter((r) => r.status !== 'ended').map((r) => activeCallRow(r, now))
      return json(applyToCollection(rows, query, ACTIVE_CALL))
    }
    case 'CallHistoryView':
      if (first.args !== undefined || second !== undefined) throw unknownPath(segments)
      requireOwner(client, 'Call history')
      return json(applyToCollection(historyRows.all(callsFor(ctx, client)), query, HISTORY))
    case 'Recordings':
      if (first.args !== undefined) throw unknownPath(segments)
      requireOwner(client, 'Recordings')
      if (second === undefined) return json(applyToCollection(recordingRows.all(callsFor(ctx, client)), query, RECORDING))
      if (second.name === 'Pbx.DownloadRecording' && second.args !== undefined) return downloadRecording(ctx, second.args)
      throw unknownPath(segments)
  }

  const report = REPORTS.find((f) => f.entitySet === first.name)
  if (report !== undefined && first.args === undefined && second?.name === report.name && second.args !== undefined) {
    requireOwner(client, 'Reports')
    const params = parseFunctionParams(report.name, second.args, report.params)
    const rows = report.rows(callsFor(ctx, client), params, reportDirectory(ctx))
    return json(applyToCollection(rows, query, { typeName: report.typeName }))
  }
  throw unknownPath(segments)
}

/** The calls the client may see (its department's, for a department-scoped client). */
function callsFor (ctx: SimContext, client: SimApiClient | undefined): readonly SimCallRecord[] {
  return recordsInScope(ctx.directory, client, callRecords(ctx))
}

/** 403 when `Set(key)` (any method, any path below it) is outside the client's department; an unknown key is left to the handler. */
export function requireEntityInScope (ctx: SimContext, segments: readonly PathSegment[], client: SimApiClient | undefined): void {
  const [first] = segments
  if (first === undefined || first.args === undefined || ENTITY_SETS[first.name] === undefined) return
  let entity: Row
  try {
    entity = findEntity(ctx, first)
  } catch {
    return
  }
  requireRowInScope(ctx.directory, client, first.name, entity, `${first.name}(${first.args})`)
}

function reportDirectory (ctx: SimContext): ReportDirectory {
  const d = ctx.directory
  return {
    queueName: (dn) => d.queues.find((q) => q.Number === dn)?.Name ?? dn,
    extensionName: (dn) => d.users.find((u) => u.Number === dn)?.DisplayName ?? dn,
    isLoggedIn: (dn) => d.users.find((u) => u.Number === dn)?.QueueStatus === 'LoggedIn'
  }
}

/** The WAV bytes of one recording; it is found by Id among every record's recordings. */
function downloadRecording (ctx: SimContext, args: string): XapiResult {
  const { recId } = parseFunctionParams('Pbx.DownloadRecording', args, { recId: 'int' })
  for (const record of callRecords(ctx)) {
    const rec = record.recordings.find((r) => r.Id === recId)
    if (rec !== undefined) {
      return { kind: 'file', filePath: rec.filePath, fileName: path.basename(rec.filePath) }
    }
  }
  throw notFound(`Recording ${String(recId)} does not exist.`)
}
