// Counts requests by legacy method (or route template) and status. The label comes from the route
// template, so neither a key nor a number can reach it.
import fp from 'fastify-plugin'
import type { onResponseHookHandler } from 'fastify'
import { unmatchedHooks } from '../../unmatched-hooks.js'

/** `/webapi/:key/pbx.calls.get` → `pbx.calls.get`; unmatched routes → `unmatched`. */
export function metricLabel (routeUrl: string | undefined): string {
  if (routeUrl === undefined || routeUrl === '' || routeUrl === '*') return 'unmatched'
  return routeUrl.replace(/^\/webapi\/:key\/?/, '/').replace(/^\/+/, '') || 'info'
}

export default fp(async (app) => {
  const metrics = app.gateway.metrics
  if (metrics === undefined) return
  // Each route's label is worked out once, when the route is added, and the route gets a hook of
  // its own that counts into it: the hook runs on the hottest path of the gateway, and reading
  // req.routeOptions builds an object on every call.
  app.addHook('onRoute', (route) => {
    const counts = metrics.requests.of(metricLabel(route.url))
    const count: onResponseHookHandler = (_req, reply, done) => {
      counts.add(reply.statusCode)
      done()
    }
    route.onResponse = [...(route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]), count]
  })
  // Requests no route matched (404s, 405s, URLs the router refused) get no route's hook: the
  // error-handler plugin runs this one for them. One counting hook per request, and none global.
  const unmatched = metrics.requests.of(metricLabel(undefined))
  unmatchedHooks(app).onResponse.push((_req, reply, done) => {
    unmatched.add(reply.statusCode)
    done()
  })
}, { name: 'request-metrics', fastify: '5.x', dependencies: ['gateway'] })
