// The simulator's XAPI (/xapi/v1/…): one catch-all route per method, because OData paths carry keys
// and function parameters in parentheses (`Users(Number='101')`, `Pbx.GetCallLogData(…)`) that a
// router cannot express; the path is parsed by xapi-path.ts and dispatched by xapi-read/xapi-actions.
// Auth, faults, latency and the request log are the simulator's hooks (simulator.ts).
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SimContext } from '../sim-context.js'
import { ODataError, notFound, odataErrorBody } from './odata-error.js'
import { parseQueryString, type QueryOptions } from './odata-query.js'
import { parseResourcePath, type PathSegment } from './xapi-path.js'
import { UnmatchedPath, readXapi, requireEntityInScope, type XapiResult } from './xapi-read.js'
import { genericXapi, type GenericRequest } from './generic-xapi.js'
import { metadataDocument } from './csdl.js'
import { odataContext } from './odata-context.js'
import { deleteXapi, patchXapi, postXapi } from './xapi-actions.js'

const ODATA_JSON = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8'

const routeSchema = {
  params: { type: 'object', properties: { '*': { type: 'string' } } },
  querystring: { type: 'object', additionalProperties: { type: 'string' } }
} as const

/** Splits the raw URL (still percent-encoded) into parsed segments and the raw query string. */
function requestTarget (req: FastifyRequest, prefix: string): { segments: PathSegment[], rawQuery: string, count: boolean } {
  const url = req.raw.url ?? ''
  const q = url.indexOf('?')
  const rawPath = (q < 0 ? url : url.slice(0, q)).slice(prefix.length)
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    throw notFound('The path contains an invalid percent-encoding.')
  }
  // `Users/$count`: the number of (filtered) entities, as text.
  const count = /\/\$count\/?$/.test(decoded)
  const segments = parseResourcePath(count ? decoded.replace(/\/\$count\/?$/, '') : decoded)
  if (segments === null) throw notFound(`No resource matches the path '${decoded}'.`)
  return { segments, rawQuery: q < 0 ? '' : url.slice(q + 1), count }
}

export async function xapiPlugin (app: FastifyInstance, opts: { ctx: SimContext }): Promise<void> {
  const { ctx } = opts
  const prefix = app.prefix

  // XAPI clients send `Content-Type: application/json` on body-less actions (DropCall): accept it.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const body = text as string
    if (body.trim() === '') { done(null, undefined); return }
    try {
      done(null, JSON.parse(body))
    } catch {
      done(new ODataError(400, 'BadRequest', 'The request body is not valid JSON.'), undefined)
    }
  })

  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof ODataError) return await reply.code(err.statusCode).type(ODATA_JSON).send(odataErrorBody(err.code, err.message))
    const status = (err as { statusCode?: number }).statusCode ?? 500
    if (status < 500) return await reply.code(status).type(ODATA_JSON).send(odataErrorBody('BadRequest', (err as Error).message))
    req.log.error({ err }, 'xapi simulator error')
    return await reply.code(500).type(ODATA_JSON).send(odataErrorBody('InternalServerError', 'An error has occurred.'))
  })
  app.setNotFoundHandler(async (req, reply) => {
    return await reply.code(404).type(ODATA_JSON).send(odataErrorBody('NotFound', `No resource matches ${req.method} ${req.url.split('?')[0]}.`))
  })

  async function send (reply: FastifyReply, result: XapiResult): Promise<FastifyReply> {
    reply.header('OData-Version', '4.0')
    if (result.kind === 'text') return await reply.type('text/plain; charset=utf-8').send(result.body)
    if (result.kind === 'json') {
      if (result.location !== undefined) reply.header('Location', result.location)
      if (result.status === 204) return await reply.code(204).send()
      return await reply.code(result.status).type(ODATA_JSON).send(result.body)
    }
    const size = await stat(result.filePath).then((s) => s.size, () => -1)
    if (size < 0) throw notFound('The recording file is not available on the PBX.')
    return await reply
      .type('audio/x-wav')
      .header('Content-Length', size)
      .header('Content-Disposition', `attachment; filename="${result.fileName.replace(/["\\]/g, '_')}"`)
      .send(createReadStream(result.filePath))
  }

  /** The hand-written answer, or the generic one where the hand-written XAPI has no such path. */
  function answer (req: FastifyRequest, method: GenericRequest['method'], handWritten: (segments: PathSegment[], query: QueryOptions) => XapiResult): XapiResult {
    const { segments, rawQuery, count } = requestTarget(req, prefix)
    const parsed = parseQueryString(rawQuery)
    const query: QueryOptions = count ? { filter: parsed.filter, search: parsed.search, count: true, top: 0 } : parsed
    const base = `${req.protocol}://${req.headers.host ?? 'localhost'}${prefix}`
    requireEntityInScope(ctx, segments, req.simClient)
    let result: XapiResult
    try {
      result = handWritten(segments, query)
    } catch (err) {
      if (!(err instanceof UnmatchedPath)) throw err
      result = genericXapi(ctx, { method, segments, query, body: req.body, base }) ?? (() => { throw err })()
    }
    if (result.kind !== 'json' || (result.status !== 200 && result.status !== 201) || result.body === null || typeof result.body !== 'object') return result
    const body = result.body as Record<string, unknown>
    if (count) {
      if (typeof body['@odata.count'] !== 'number') throw notFound('$count applies to collections only.')
      return { kind: 'text', body: String(body['@odata.count']) }
    }
    const context = !/odata\.metadata=none/.test(req.headers.accept ?? '') ? odataContext(base, segments, parsed, method) : null
    return context === null ? result : { ...result, body: { '@odata.context': context, ...body } }
  }

  app.get('/$metadata', async (_req, reply) => {
    return await reply.header('OData-Version', '4.0').type('application/xml; charset=utf-8').send(metadataDocument())
  })
  app.get('/*', { schema: routeSchema }, async (req, reply) => {
    return await send(reply, answer(req, 'get', (segments, query) => readXapi(ctx, segments, query, req.simClient)))
  })
  app.patch('/*', { schema: { ...routeSchema, body: {} } }, async (req, reply) => {
    return await send(reply, answer(req, 'patch', (segments) => patchXapi(ctx, segments, req.body)))
  })
  app.post('/*', { schema: { ...routeSchema, body: {} } }, async (req, reply) => {
    return await send(reply, answer(req, 'post', (segments) => postXapi(ctx, segments, req.body, req.simClient)))
  })
  app.delete('/*', { schema: routeSchema }, async (req, reply) => {
    return await send(reply, answer(req, 'delete', (segments) => deleteXapi(ctx, segments)))
  })
  app.put('/*', { schema: routeSchema }, async () => {
    throw new ODataError(405, 'MethodNotAllowed', 'PUT is not supported by XAPI; use PATCH.')
  })
}
