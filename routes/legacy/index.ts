// The legacy GET API (legacy-api.md §1–3.5): every method at `/{method}` (key in `?key=` or the
// X-API-Key header) and at `/webapi/{key}/{method}`, plus the gateway information at
// `/webapi/{key}/` and `/info`. Auth, errors and docs come from the auth, error-handler and
// swagger plugins, which must be registered first.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import { methodScope, requireScope, type AuthorizedShortcut } from '../../src/plugins/app/auth.js'
import { repeatedParameter } from '../../src/legacy/duplicate-parameters.js'
import { probePbxVersion, type GatewayInfo } from '../../src/legacy/gateway-info.js'
import { VERSION } from '../../src/version.js'
import { RecentRequests } from '../../src/legacy/recent-requests.js'
import { normalizePhoneNumber } from '../../src/legacy/params.js'
import { SerializedJson, type AnyLegacyMethod, type LegacyServices } from './legacy-method.js'
import { callMethods } from './call-methods.js'
import { directoryMethods } from './directory-methods.js'
import { controlMethods } from './control-methods.js'
import { gatewayInfoResponse, noParams } from './schemas.js'
import { API_KEY_SECURITY, errorResponses, webapiKeyForm } from '../../src/schemas/shared.js'

const JSON_TYPE = 'application/json; charset=utf-8'

export const legacyMethods: readonly AnyLegacyMethod[] = [...callMethods, ...directoryMethods, ...controlMethods]

/** A URL as it may be shown: user and password (never expected in PBX_URL, but possible) removed. */
function withoutCredentials (url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//')
}

/** A handler's value as the reply: JSON it serialized itself is sent as is, anything else goes through the schema's serializer. */
function answer (reply: FastifyReply, body: unknown): unknown {
  return body instanceof SerializedJson ? reply.type(JSON_TYPE).send(body.json) : body
}

/**
 * The hot cached path (issue 16): a method's in-memory answer sent from its onRequest hook, right
 * after authentication and the per-key limit, when the querystring (and the `/webapi/{key}/` form's
 * path parameters) pass the route's own compiled schema and no parameter is repeated; anything else
 * goes the usual way, through the duplicate rule, validation and the handler, which answer it alike.
 */
function fromMemory (peek: NonNullable<AnyLegacyMethod['peek']>, services: LegacyServices): AuthorizedShortcut {
  return (req, reply) => {
    const query = req.query
    if (repeatedParameter(query) !== null || req.getValidationFunction('querystring')?.(query) !== true) return false
    const params = req.getValidationFunction('params')
    if (params !== undefined && params(req.params) !== true) return false
    const body = peek(query as never, services)
    if (body === undefined) return false
    void reply.type(JSON_TYPE).send(body.json)
    return true
  }
}

/**
 * The key that sent a makecall and its parameters (the key itself left out), as one string: the
 * number to dial as it is dialled (`+1 555 987-0000` and `+15559870000` are one call).
 */
function makecallIdentity (req: FastifyRequest): string {
  const query = Object.entries(req.query as Record<string, unknown>).filter(([k]) => k !== 'key').sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => [k, k === 'second' && typeof v === 'string' ? (normalizePhoneNumber(v) ?? v) : v])
  return `${req.apiKey === null ? '' : req.server.apiKeys.stableId(req.apiKey)}\n${JSON.stringify(query)}`
}

export interface LegacyRoutesOptions {
  /** How long gateway info waits for the PBX version before saying unreachable. */
  pbxProbeMs?: number
}

export default async function legacyRoutes (app: FastifyInstance, opts: LegacyRoutesOptions): Promise<void> {
  const gw = app.gateway
  const services: LegacyServices = { calls: gw.calls, directory: gw.directory, xapi: gw.xapi, callControl: gw.callControl }
  const startedAt = Date.now()

  for (const m of legacyMethods) {
    const schema: FastifySchema & Record<string, unknown> = {
      summary: m.summary,
      description: `${m.description ?? ''}\n\nAlso at \`/webapi/{key}/${m.name}\`. Needs a ${methodScope(m.name)} key.`.trim(),
      tags: [m.tag],
      querystring: m.querystring,
      response: { 200: m.response, ...errorResponses },
      security: API_KEY_SECURITY
    }
    const onRequest = requireScope(methodScope(m.name), m.peek === undefined ? undefined : fromMemory(m.peek, services))
    // The socket-timeout plugin arms the connection's timeout only when that hook did not answer.
    const config = { answersInFirstHook: m.peek !== undefined }
    // Not async: a handler that answers from memory returns its value without a promise.
    let handler = (req: FastifyRequest, reply: FastifyReply): unknown => {
      const body = m.handler(req.query as never, services)
      if (body instanceof Promise) return body.then((b: unknown) => answer(reply, b))
      return answer(reply, body)
    }
    // Only makecall: every call dials. Setters are idempotent, and answering a later set from an
    // earlier one could undo a change made in between (Away, Available, Away).
    if (m.name === 'makecall' && gw.config.makecallDedupMs > 0) {
      const recent = new RecentRequests(gw.config.makecallDedupMs)
      const place = handler
      handler = async (req, reply) => await recent.run(makecallIdentity(req), async () => await place(req, reply))
    }
    app.get(`/${m.name}`, { schema, onRequest, config }, handler)
    app.get(`/webapi/:key/${m.name}`, { schema: webapiKeyForm(schema), onRequest, config }, handler)
  }

  const info = async (): Promise<GatewayInfo> => {
    const version = await probePbxVersion(async () => await services.directory.pbxVersion(), opts.pbxProbeMs ?? 3000)
    return {
      product: '3cx-gateway',
      version: VERSION,
      mode: gw.config.demo ? 'demo' : 'pbx',
      pbx: { url: withoutCredentials(gw.config.pbx.url), version: version ?? '', reachable: version !== null },
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      ...(gw.config.demo && gw.simulatorUrl !== undefined ? { simulator: gw.simulatorUrl } : {})
    }
  }
  const infoSchema = {
    summary: 'Gateway information',
    description: 'Product, version, demo or PBX mode, the PBX URL, its version and whether it answers. Also at `/webapi/{key}/`.',
    tags: ['gateway'],
    querystring: noParams,
    response: { 200: gatewayInfoResponse, 401: errorResponses[401], 429: errorResponses[429] },
    security: API_KEY_SECURITY
  }
  const readKey = requireScope('read')
  app.get('/info', { schema: infoSchema, onRequest: readKey }, info)
  app.get('/webapi/:key/', { schema: webapiKeyForm(infoSchema), onRequest: readKey }, info)
  app.get('/webapi/:key', { schema: webapiKeyForm(infoSchema), onRequest: readKey }, info)
}
