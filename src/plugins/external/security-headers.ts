// Security headers (helmet's set) on every response. helmet is run once at start-up against a
// recording response and its headers are replayed per request: @fastify/helmet rebuilds helmet's
// middleware (parsing the CSP) on every request, which cost ~17% of the CPU of a cached API call.
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The headers helmet sets for `options`, computed once. */
export function helmetHeaders (options: Readonly<HelmetOptions>): { set: Record<string, string>, remove: string[] } {
  const set: Record<string, string> = {}
  const remove: string[] = []
  const recorder = {
    setHeader (name: string, value: unknown) { set[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value) },
    removeHeader (name: string) { remove.push(name.toLowerCase()); Reflect.deleteProperty(set, name.toLowerCase()) },
    getHeader () { return undefined }
  }
  let failed: unknown = null
  helmet(options)({ headers: {}, method: 'GET', url: '/' } as unknown as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => { failed = err ?? null })
  if (failed !== null) throw failed instanceof Error ? failed : new Error(String(failed))
  return { set, remove }
}

/**
 * The gateway's policy: JSON and audio answers; /docs (swagger-ui) needs inline scripts and styles.
 * The https-only headers (HSTS, CSP upgrade-insecure-requests) only when the gateway itself serves
 * TLS: over plain HTTP on a LAN host name they make the browser fetch /docs' scripts over https,
 * which nothing answers, and the page stays blank.
 */
export function gatewayHelmetOptions (servesTls: boolean): Readonly<HelmetOptions> {
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'", 'https:'],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        upgradeInsecureRequests: servesTls ? [] : null
      }
    },
    strictTransportSecurity: servesTls,
    crossOriginResourcePolicy: { policy: 'same-site' }
  }
}

export default fp(async (app, opts: { servesTls?: boolean, helmet?: HelmetOptions }) => {
  const { set, remove } = helmetHeaders(opts.helmet ?? gatewayHelmetOptions(opts.servesTls === true))
  app.addHook('onRequest', (_req, reply, done) => {
    void reply.headers(set)
    for (const name of remove) reply.raw.removeHeader(name)
    done()
  })
}, { name: 'security-headers', fastify: '5.x' })
