// CORS is off unless CORS_ORIGINS lists the origins a browser-based CRM may call from. The API is
// GET-only with a key, so a small hook is enough: allow listed origins, answer preflights.
import fp from 'fastify-plugin'
import { runUnmatchedOnRequest } from '../../unmatched-hooks.js'

export default fp(async (app, opts: { origins: readonly string[] }) => {
  if (opts.origins.length === 0) return
  const allowed = new Set(opts.origins)
  const any = allowed.has('*')
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin
    if (origin === undefined || (!any && !allowed.has(origin))) return
    void reply.header('access-control-allow-origin', any ? '*' : origin)
    void reply.header('vary', 'Origin')
    if (req.method === 'OPTIONS') {
      // No route answers OPTIONS: the hooks that come after this one (security headers) do not run.
      runUnmatchedOnRequest(req, reply)
      void reply.header('access-control-allow-methods', 'GET, POST, OPTIONS')
      void reply.header('access-control-allow-headers', 'X-API-Key, Content-Type')
      void reply.header('access-control-max-age', '600')
      return await reply.code(204).send()
    }
  })
}, { name: 'cors', fastify: '5.x' })
