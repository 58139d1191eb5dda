// One error handler for the whole app (legacy-api.md §2): every failure becomes
// `{"result":false,"error":{"code","message"}}` with a status that says whose fault it was.
// Caller mistakes are 4xx naming what to fix; PBX failures keep the PBX client's status; anything
// unexpected is logged and answered 502 with a generic sentence, never a stack trace, never a 500.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { errorBody, LegacyError, toLegacyError, type LegacyErrorCode } from '../../legacy/legacy-error.js'
import { PARAMETER_RULES } from '../../legacy/params.js'
import { redactUrl } from './request-key.js'
import { RouteMethods } from './route-methods.js'
import { runUnmatchedHooks, unmatchedHooks } from '../../unmatched-hooks.js'

interface ValidationIssue {
  instancePath?: string
  keyword?: string
  params?: { missingProperty?: string }
  message?: string
}

/** The parameter a schema validation error is about, and a sentence saying what to send. */
export function describeValidation (issues: readonly ValidationIssue[], context = 'querystring'): LegacyError {
  const issue = issues[0] ?? {}
  const missing = issue.params?.missingProperty
  const param = missing ?? (issue.instancePath ?? '').replace(/^\//, '').split('/')[0]
  if (param === '') return new LegacyError(400, 'BAD_PARAMETER', `The ${context} is ill-formed: ${issue.message ?? 'invalid'}`)
  if (missing !== undefined) return new LegacyError(400, 'BAD_PARAMETER', `Parameter "${param}" is missing; it ${PARAMETER_RULES[param] ?? 'is required'}`)
  const rule = PARAMETER_RULES[param] ?? (issue.message ?? 'is invalid')
  return new LegacyError(400, 'BAD_PARAMETER', `Parameter "${param}" is ill-formed; it ${rule}`)
}

/** Fastify's body-parsing refusals, each with a sentence that says what to send instead. */
const BODY_ERRORS: Record<string, [number, LegacyErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON, with the header Content-Type: application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'BAD_REQUEST', 'The body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'BAD_REQUEST', 'The body is empty; send a JSON object'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE', 'The body is too large']
}

/** Any thrown value as the LegacyError to answer with; null for an unexpected one. */
export function classifyError (err: unknown): LegacyError | null {
  const known = toLegacyError(err)
  if (known !== null) return known
  const fe = err as Partial<FastifyError> | null
  if (fe !== null && typeof fe === 'object' && Array.isArray(fe.validation)) {
    return describeValidation(fe.validation, fe.validationContext)
  }
  const status = fe?.statusCode
  const body = BODY_ERRORS[fe?.code ?? '']
  if (body !== undefined) return new LegacyError(body[0], body[1], body[2])
  if (status === 429) return new LegacyError(429, 'RATE_LIMITED', 'Too many requests; retry later')
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new LegacyError(status, 'BAD_REQUEST', 'The request is ill-formed (check its URL, headers and body)')
  }
  if (status === 503) return new LegacyError(503, 'NOT_READY', 'The gateway is not ready or is shutting down; retry shortly')
  return null
}

export function sendError (reply: FastifyReply, err: LegacyError): FastifyReply {
  return reply.code(err.status).type('application/json; charset=utf-8').send(errorBody(err.code, err.message))
}

async function handleError (this: unknown, err: unknown, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const known = classifyError(err)
  if (known !== null) {
    if (known.status >= 500) req.log.warn({ code: known.code, url: redactUrl(req.url) }, redactUrl(known.message))
    return sendError(reply, known)
  }
  const e = err as Error
  req.log.error({ url: redactUrl(req.url), errName: e?.name, errMessage: typeof e?.message === 'string' ? redactUrl(e.message) : undefined }, 'unexpected error')
  return sendError(reply, new LegacyError(502, 'GATEWAY_ERROR', 'The gateway could not complete this request; the error was logged'))
}

/** A method name as it may be echoed back: short and harmless, never the key segment. */
function methodNameOf (url: string): string {
  const last = redactUrl(url).split(/[?#]/)[0].split('/').filter(Boolean).pop() ?? ''
  return /^[A-Za-z0-9._-]{1,60}$/.test(last) ? last : ''
}

/**
 * Unknown paths: a JSON 404, `UNKNOWN_METHOD` for what looks like a legacy method. `isMethod` says
 * whether a name is a method the gateway has: then the address is what is wrong, not the method
 * (`/webapi/K/pbx.calls.get/`, `/WEBAPI/K/…`, `//webapi/…`), and the sentence says so.
 */
export async function notFound (req: FastifyRequest, reply: FastifyReply, isMethod: (name: string) => boolean = () => false): Promise<FastifyReply> {
  // /t/<id>/… is the tenant prefix of a gateway with TENANTS_FILE; this one serves a single PBX.
  if (/^\/t\/[^/?]+(?:[/?]|$)/.test(req.url)) {
    return sendError(reply, new LegacyError(404, 'NO_TENANTS', 'This gateway serves one PBX and has no tenants: leave the /t/{tenant}/ prefix out of the address'))
  }
  const method = methodNameOf(req.url)
  if (/^\/webapi\//i.test(req.url) || /\.(get|set)$/i.test(method) || method === 'makecall') {
    if (method !== '' && isMethod(method)) {
      return sendError(reply, new LegacyError(404, 'UNKNOWN_METHOD', `Method "${method}" exists, but not at this address: call /webapi/{key}/${method} or /${method}, exactly so (lower-case webapi, no extra or trailing slash)`))
    }
    const what = method === '' ? 'This method' : `Method "${method}"`
    return sendError(reply, new LegacyError(404, 'UNKNOWN_METHOD', `${what} does not exist; the list of methods is at /docs`))
  }
  return sendError(reply, new LegacyError(404, 'NOT_FOUND', 'Nothing here; the API is documented at /docs'))
}

/** Fastify's `frameworkErrors` option (bad URL encoding, overlong path parameter) without echoing the URL. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, req, reply) => {
  // Fastify runs no hook for these: the security headers and the request counter come from here.
  runUnmatchedHooks(req, reply)
  const status = err.statusCode === 414 ? 414 : 400
  void sendError(reply, new LegacyError(status, 'BAD_PARAMETER', 'The URL is ill-formed (bad percent-encoding or a part that is too long)'))
}

export default fp(async (app) => {
  app.setErrorHandler(handleError)
  // Registered before the routes, so it sees every route the app gets.
  const routes = new RouteMethods()
  app.addHook('onRoute', (route) => { routes.add(route.method, route.url ?? route.path) })
  // The not-found context runs the global hooks and the handler's own: the unmatched-request steps
  // (security headers, counter) as its onRequest and onResponse hooks (Fastify takes every
  // lifecycle hook from these options, though its types name only preValidation and preHandler).
  const hooks = unmatchedHooks(app)
  app.setNotFoundHandler({ onRequest: hooks.onRequest, onResponse: hooks.onResponse } as Parameters<typeof app.setNotFoundHandler>[0], async (req, reply) => {
    const allowed = routes.allowed(req.url.split('?')[0])
    // A route that answers this method and still found nothing (a static file that is not there) is a 404.
    if (allowed.length === 0 || allowed.includes(req.method)) return await notFound(req, reply, (name) => routes.allowed(`/${name}`).includes('GET'))
    void reply.header('allow', allowed.join(', '))
    return sendError(reply, new LegacyError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; this address answers ${allowed.join(', ')}`))
  })
}, { name: 'error-handler', fastify: '5.x' })
