// The idle timeout of a connection while a request is being answered: a client that stops reading
// (a stalled recording download, an export, the console's live feed) or a handler that never
// answers is cut off after `ms` without progress. Before a request, Node's own limits apply
// (headersTimeout and requestTimeout for the request, keepAliveTimeout between requests), so the
// server sets no socket timeout itself (Fastify's connectionTimeout is 0): with one, Node re-armed a
// timer on every request, and refreshed it on every read and write, even for an answer sent from
// memory at once (issue 16). Each route arms it in its first onRequest hook instead; a route that
// may answer from memory in that hook (route config `answersInFirstHook`) arms it only when the
// hook left the answer unsent or not fully written (a large answer the client does not read).
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'
import { withFirstStep } from '../external/security-headers.js'
import { unmatchedHooks } from '../../unmatched-hooks.js'

/** A connection answering a request with no progress for this long is closed (was connectionTimeout). */
export const SOCKET_TIMEOUT_MS = 60_000

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's first onRequest hook may send the whole answer itself (the cached legacy GETs). */
    answersInFirstHook?: boolean
  }
}

function arm (req: FastifyRequest, ms: number): void {
  const socket = req.raw.socket as { setTimeout?: (ms: number) => unknown } | null
  // app.inject's requests have no real socket.
  if (typeof socket?.setTimeout === 'function') socket.setTimeout(ms)
}

/** Whether the answer is fully handed to the operating system (nothing is left to time out). */
function written (req: FastifyRequest, reply: FastifyReply): boolean {
  const socket = req.raw.socket as { writableLength?: number } | null | undefined
  return reply.raw.writableEnded && !((socket?.writableLength ?? 0) > 0)
}

/** `route`'s onRequest hooks with the timeout armed after its first hook, unless that hook answered. */
function armedAfterFirst (route: Pick<RouteOptions, 'onRequest'>, ms: number): onRequestHookHandler[] {
  const hooks = (Array.isArray(route.onRequest) ? [...route.onRequest] : [route.onRequest]) as onRequestHookHandler[]
  const first = hooks[0]
  const wrapped: onRequestHookHandler = function (req, reply, done) {
    const result = first.call(this, req, reply, done)
    if (!written(req, reply)) arm(req, ms)
    return result
  }
  return [wrapped, ...hooks.slice(1)]
}

export default fp(async (app, opts: { ms?: number }) => {
  const ms = opts.ms ?? SOCKET_TIMEOUT_MS
  app.addHook('onRoute', (route) => {
    const first = Array.isArray(route.onRequest) ? route.onRequest[0] : route.onRequest
    if (route.config?.answersInFirstHook === true && first !== undefined) {
      route.onRequest = armedAfterFirst(route, ms) as RouteOptions['onRequest']
    } else {
      route.onRequest = withFirstStep(route, (reply) => { arm(reply.request, ms) }) as RouteOptions['onRequest']
    }
  })
  // 404s, 405s, refused URLs.
  unmatchedHooks(app).onRequest.push((req, _reply, done) => { arm(req, ms); done() })
}, { name: 'socket-timeout', fastify: '5.x' })
