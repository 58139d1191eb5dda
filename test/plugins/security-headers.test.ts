// Which security headers each kind of answer carries: JSON API answers the short REST set, what a
// browser opens or embeds (console, /docs, recordings) helmet's full set. The full app over a real
// socket is checked in test/security.test.ts.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import securityHeaders, { isBrowserRoute, withFirstStep } from '../../src/plugins/external/security-headers.js'
import errorHandler, { frameworkErrors } from '../../src/plugins/app/error-handler.js'

const API_SET = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin'
}
/** Headers helmet adds for documents, which a JSON answer does not carry. */
const DOCUMENT_ONLY = ['x-frame-options', 'cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection']
const SECURITY_NAMES = new Set([...Object.keys(API_SET), ...DOCUMENT_ONLY, 'strict-transport-security'])

async function appWith (servesTls: boolean): Promise<FastifyInstance> {
  const app = Fastify({ frameworkErrors })
  await app.register(securityHeaders, { servesTls })
  await app.register(errorHandler)
  app.get('/webapi/:key/ext.state.get', async () => ({ num: '101' }))
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/webapi/:key/fails', async () => { throw new Error('boom') })
  // Answered from the route's own onRequest hook, callback and async (the gateway's key check).
  app.get('/webapi/:key/refused', { onRequest: (_req, reply, done) => { void reply.code(401).send({ result: false }); done() } }, async () => ({}))
  app.get('/webapi/:key/refused-async', { onRequest: async (_req, reply) => { await reply.code(429).send({ result: false }) } }, async () => ({}))
  app.get('/console/', async (_req, reply) => await reply.type('text/html').send('<!doctype html><title>console</title>'))
  app.get('/docs', async (_req, reply) => await reply.type('text/html').send('<!doctype html><title>docs</title>'))
  app.get('/recordings/:token/:file', async (_req, reply) => await reply.header('cache-control', 'private, max-age=86400').type('audio/mpeg').send(Buffer.alloc(4)))
  app.get('/webapi/:key/recording/:file', async (_req, reply) => await reply.type('audio/mpeg').send(Buffer.alloc(4)))
  await app.ready()
  t.teardown(() => app.close())
  return app
}

function securityHeadersOf (headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => SECURITY_NAMES.has(name)))
}

t.test('JSON API answers (and 404s, 405s, refused URLs, errors) carry exactly the REST set; no HSTS over plain HTTP', async (t) => {
  const app = await appWith(false)
  for (const url of ['/webapi/K/ext.state.get', '/healthz', '/no-such-route', '/webapi/%zz/ext.state.get', '/webapi/K/fails', '/webapi/K/refused', '/webapi/K/refused-async']) {
    const res = await app.inject({ url })
    t.same(securityHeadersOf(res.headers), API_SET, `${url} (${res.statusCode})`)
  }
  const post = await app.inject({ method: 'POST', url: '/healthz' })
  t.equal(post.statusCode, 405)
  t.same(securityHeadersOf(post.headers), API_SET, 'POST /healthz (405)')
  const head = await app.inject({ method: 'HEAD', url: '/healthz' })
  t.same(securityHeadersOf(head.headers), API_SET, 'HEAD /healthz')
})

t.test('a route\'s own onRequest hooks still run, in order, with the headers set first', async (t) => {
  const order: string[] = []
  const hooks = withFirstStep({ onRequest: [(_req, _reply, done) => { order.push('a'); done() }, async () => { order.push('b') }] }, () => { order.push('headers') })
  t.equal(hooks.length, 2, 'no hook of its own when the route has one')
  const app = Fastify()
  app.get('/x', { onRequest: hooks as never }, async () => { order.push('handler'); return {} })
  await app.inject({ url: '/x' })
  t.same(order, ['headers', 'a', 'b', 'handler'])
  t.equal(withFirstStep({}, () => {}).length, 1, 'a route without hooks gets one')
})

t.test('with TLS the API answers add HSTS', async (t) => {
  const app = await appWith(true)
  const res = await app.inject({ url: '/webapi/K/ext.state.get' })
  t.same(securityHeadersOf(res.headers), { ...API_SET, 'strict-transport-security': 'max-age=31536000; includeSubDomains' })
})

t.test('pages and recordings keep helmet\'s full set, without the API\'s no-store', async (t) => {
  const app = await appWith(false)
  for (const url of ['/console/', '/docs', '/recordings/tok/a.mp3', '/webapi/K/recording/a.mp3']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-security-policy'], /^default-src 'self';/, `${url}: helmet's CSP`)
    t.notMatch(res.headers['content-security-policy'], /upgrade-insecure-requests/, `${url}: no https-only CSP over plain HTTP`)
    t.equal(res.headers['cross-origin-resource-policy'], 'same-site', `${url}: an <audio> on a same-site page may embed it`)
    for (const name of DOCUMENT_ONLY) t.ok(res.headers[name] !== undefined, `${url}: ${name}`)
    t.equal(res.headers['strict-transport-security'], undefined, `${url}: no HSTS over plain HTTP`)
    t.not(res.headers['cache-control'], 'no-store', `${url}: the page's own caching`)
  }
  t.equal((await app.inject({ url: '/recordings/tok/a.mp3' })).headers['cache-control'], 'private, max-age=86400', 'a route\'s own Cache-Control stays')
})

t.test('with TLS pages get HSTS and upgrade-insecure-requests', async (t) => {
  const app = await appWith(true)
  const res = await app.inject({ url: '/console/' })
  t.match(res.headers['content-security-policy'], /upgrade-insecure-requests/)
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
})

t.test('which route templates are browser routes', async (t) => {
  t.same(['/console/', '/console/*', '/console/api/calls', '/docs', '/docs/static/*', '/recordings/:token/:file', '/webapi/:key/recording/:file'].filter((u) => !isBrowserRoute(u)), [])
  t.same(['/webapi/:key/ext.state.get', '/webapi/:key/recordings.list.get', '/reports/calls', '/healthz', '/metrics', '/', '*'].filter(isBrowserRoute), [])
})
