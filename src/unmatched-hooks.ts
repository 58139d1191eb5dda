// Requests no route matched run no route's hooks. Fastify answers them through the not-found
// handler (whose context has the global hooks and the handler's own) or, for URLs the router
// refuses (bad percent-encoding, an overlong parameter), through the frameworkErrors option, with
// no hooks at all. Plugins that must see every request without a global hook on the hot path
// (security headers, request counters) add route-level hooks to each route and put the same steps
// here; the error-handler plugin runs them on both unmatched paths.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, onResponseHookHandler } from 'fastify'

/** Synchronous steps, called with `done` like callback hooks. */
export interface UnmatchedHooks {
  onRequest: onRequestHookHandler[]
  onResponse: onResponseHookHandler[]
}

declare module 'fastify' {
  interface FastifyInstance {
    unmatchedHooks: UnmatchedHooks
  }
}

/** The app's unmatched-request hooks, made on first use. */
export function unmatchedHooks (app: FastifyInstance): UnmatchedHooks {
  if (!app.hasDecorator('unmatchedHooks')) app.decorate('unmatchedHooks', { onRequest: [], onResponse: [] })
  return app.unmatchedHooks
}

function noop (): void {}

/** The onRequest steps, for an unmatched request a global hook answers itself (a CORS preflight). */
export function runUnmatchedOnRequest (req: FastifyRequest, reply: FastifyReply): void {
  const app = req.server
  if (!app.hasDecorator('unmatchedHooks')) return
  for (const hook of app.unmatchedHooks.onRequest) void hook.call(app, req, reply, noop)
}

/**
 * For a request Fastify hands to frameworkErrors (no hooks run there): the onRequest steps now,
 * the onResponse steps when the answer has gone out.
 */
export function runUnmatchedHooks (req: FastifyRequest, reply: FastifyReply): void {
  runUnmatchedOnRequest(req, reply)
  const hooks = req.server.hasDecorator('unmatchedHooks') ? req.server.unmatchedHooks.onResponse : []
  if (hooks.length === 0) return
  reply.raw.once('finish', () => { for (const hook of hooks) void hook.call(req.server, req, reply, noop) })
}
