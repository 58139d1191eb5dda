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
  // One child counter per (route, status), looked up by a plain string instead of hashing labels
  // on every request: this hook runs on the hottest path of the gateway.
  const children = new Map<string, { inc: () => void }>()
  app.addHook('onResponse', (req, reply, done) => {
    const key = `${req.routeOptions.url ?? ''} ${reply.statusCode}`
    let child = children.get(key)
    if (child === undefined) {
      child = metrics.requests.labels({ method: metricLabel(req.routeOptions.url), status: String(reply.statusCode) })
      children.set(key, child)
    }
    child.inc()
    done()
  })
}, { name: 'request-metrics', fastify: '5.x', dependencies: ['gateway'] })
