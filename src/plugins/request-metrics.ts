// Counts requests by legacy method (or route template) and status. The label comes from the route
// template, so neither a key nor a number can reach it.
import fp from 'fastify-plugin'
import type { GatewayMetrics } from '../metrics.js'

/** `/webapi/:key/pbx.calls.get` → `pbx.calls.get`; unmatched routes → `unmatched`. */
export function metricLabel (routeUrl: string | undefined): string {
  if (routeUrl === undefined || routeUrl === '' || routeUrl === '*') return 'unmatched'
  return routeUrl.replace(/^\/webapi\/:key\/?/, '/').replace(/^\/+/, '') || 'info'
}

export default fp(async (app) => {
  const metrics = app.gateway.metrics as GatewayMetrics | undefined
  if (metrics === undefined) return
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ method: metricLabel(req.routeOptions.url), status: String(reply.statusCode) })
  })
}, { name: 'request-metrics', fastify: '5.x', dependencies: ['gateway'] })
