// Security headers on every response, in two sets chosen per route when the route is added:
// - JSON API answers (the legacy API, reports, webhooks admin, health, 404s): the short REST set
//   of OWASP's REST Security Cheat Sheet (apiHeaders below), six headers at most. Node validates
//   every header of every response, and helmet's dozen were the largest per-request cost left in a
//   cached API call (issue 16); the rest of helmet's set tells a browser how to treat a *document*
//   (framing, opener, DNS prefetch, IE download options), which a JSON answer is not.
// - What a browser opens or embeds (the console, the /docs UI, recordings): helmet's full set.
// Both are computed once at start-up; helmet is run once against a recording response and its
// headers replayed (@fastify/helmet rebuilds helmet's middleware, parsing the CSP, on every request).
// No global hook (issue 16: it was a call and a header copy more on every cached API answer): each
// route sets its set in its own first onRequest hook (wrapped, so no extra hook runs), and requests
// no route matched get the API set from the error-handler plugin (src/unmatched-hooks.ts).
import fp from 'fastify-plugin'
import type { FastifyReply, onRequestHookHandler, onRequestAsyncHookHandler, RouteOptions } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { unmatchedHooks } from '../../unmatched-hooks.js'

/**
 * The headers helmet sets for `options`, computed once. HelmetOptions is 8 either-or key pairs, 256
 * object types once expanded: never Readonly<> it or put it in a union (`a ?? b`); relating such
 * copies took tsc 5–7 s, a fifth of the whole type check.
 */
export function helmetHeaders (options: HelmetOptions): { set: Record<string, string>, remove: string[] } {
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
export function gatewayHelmetOptions (servesTls: boolean): HelmetOptions {
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

/**
 * The headers of a JSON API answer: no MIME sniffing, never cached, nothing may load or frame it,
 * no referrer, readable by its own origin only (CORS, when configured, still answers other
 * origins' fetches), and HSTS when the gateway serves TLS (`hsts`: helmet's value).
 */
export function apiHeaders (hsts: string | undefined): Readonly<Record<string, string>> {
  return Object.freeze({
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    ...(hsts === undefined ? {} : { 'strict-transport-security': hsts })
  })
}

/**
 * Route templates a browser opens as a page or embeds (an <audio> of a recording): these keep
 * helmet's full set, with its same-site resource policy and the page's own caching.
 */
const BROWSER_ROUTES = ['/console', '/docs', '/recordings/', '/webapi/:key/recording/']

export function isBrowserRoute (url: string): boolean {
  return BROWSER_ROUTES.some((prefix) => url.startsWith(prefix))
}

type AnyOnRequest = onRequestHookHandler | onRequestAsyncHookHandler

/**
 * `route`'s onRequest hooks with `step` run first: inside the route's first hook when it has one
 * (callback or async: the wrapper passes on what that hook returns), else as a hook of its own.
 */
export function withFirstStep (route: Pick<RouteOptions, 'onRequest'>, step: (reply: FastifyReply) => void): AnyOnRequest[] {
  const hooks: AnyOnRequest[] = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? [...route.onRequest] : [route.onRequest as AnyOnRequest]
  const first = hooks[0]
  if (first === undefined) {
    return [(_req, reply, done) => { step(reply); done() }]
  }
  const wrapped: onRequestHookHandler = function (req, reply, done) {
    step(reply)
    return (first as onRequestHookHandler).call(this, req, reply, done)
  }
  return [wrapped, ...hooks.slice(1)]
}

export default fp(async (app, opts: { servesTls?: boolean }) => {
  const full = helmetHeaders(gatewayHelmetOptions(opts.servesTls === true))
  const fullSet = Object.freeze(full.set)
  const api = apiHeaders(full.set['strict-transport-security'])
  const apiStep = (reply: FastifyReply): void => { void reply.headers(api) }
  // Browser routes get helmet's set (which names every header of the API set but Cache-Control).
  const browserStep = (reply: FastifyReply): void => {
    void reply.headers(fullSet)
    for (const name of full.remove) reply.raw.removeHeader(name)
  }
  app.addHook('onRoute', (route) => {
    route.onRequest = withFirstStep(route, isBrowserRoute(route.url) ? browserStep : apiStep) as RouteOptions['onRequest']
  })
  // 404s, 405s, refused URLs and CORS preflights: the API set.
  unmatchedHooks(app).onRequest.push((_req, reply, done) => { apiStep(reply); done() })
}, { name: 'security-headers', fastify: '5.x' })
