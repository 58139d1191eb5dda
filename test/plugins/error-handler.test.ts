import t from 'tap'
import Fastify from 'fastify'
import { PbxError } from '../../src/pbx/pbx-api.js'
import { fromPbxError, LegacyError } from '../../src/legacy/legacy-error.js'
import errorHandler, { classifyError, describeValidation } from '../../src/plugins/app/error-handler.js'

t.test('PbxError keeps its status and code, with a hint', async (t) => {
  const e = fromPbxError(new PbxError('PBX_FORBIDDEN', 'XAPI answered 403', 502, 403))
  t.equal(e.status, 502)
  t.equal(e.code, 'PBX_FORBIDDEN')
  t.match(e.message, /System Owner/)
  t.equal(fromPbxError(new PbxError('PBX_UNREACHABLE', 'down', 503)).status, 503)
  t.equal(fromPbxError(new PbxError('PBX_TIMEOUT', 'slow', 504)).status, 504)
  t.equal(fromPbxError(new PbxError('PBX_NOT_FOUND', 'gone', 404, 404)).status, 404)
  t.equal(fromPbxError(new PbxError('PBX_ERROR', 'odd', 500, 500)).status, 502, 'never a 500')
})

t.test('validation errors name the parameter', async (t) => {
  const missing = describeValidation([{ instancePath: '', keyword: 'required', params: { missingProperty: 'num' } }])
  t.equal(missing.status, 400)
  t.equal(missing.code, 'BAD_PARAMETER')
  t.match(missing.message, /^Parameter "num" is missing/)
  const bad = describeValidation([{ instancePath: '/log', keyword: 'pattern', message: 'must match pattern' }])
  t.match(bad.message, /^Parameter "log" is ill-formed; it must be on or off/)
  const unknown = describeValidation([{ instancePath: '/from', keyword: 'format', message: 'must match format "date"' }])
  t.match(unknown.message, /Parameter "from" is ill-formed; it must match format "date"/)
  t.match(describeValidation([]).message, /querystring is ill-formed/)
})

t.test('classification of unexpected errors', async (t) => {
  t.equal(classifyError(new Error('boom')), null)
  t.equal(classifyError(Object.assign(new Error('x'), { statusCode: 429 }))?.code, 'RATE_LIMITED')
  t.equal(classifyError(Object.assign(new Error('x'), { statusCode: 413 }))?.status, 413)
  t.equal(classifyError(Object.assign(new Error('x'), { statusCode: 503 }))?.code, 'NOT_READY')
  t.equal(classifyError(new LegacyError(404, 'EXT_NOT_FOUND', 'x'))?.status, 404)
})

t.test('as a plugin: JSON for every failure, no stack, no 500', async (t) => {
  const app = Fastify()
  await app.register(errorHandler)
  app.get('/bug', async () => { throw new Error('secret internals at /srv/x.js:1') })
  app.get('/pbx', async () => { throw new PbxError('PBX_TIMEOUT', 'The PBX did not answer within 10 ms', 504) })
  app.get('/v', { schema: { querystring: { type: 'object', required: ['num'], properties: { num: { type: 'string', pattern: '^[0-9]+$' } } } } }, async () => ({}))
  t.teardown(async () => { await app.close() })

  const bug = await app.inject('/bug')
  t.equal(bug.statusCode, 502)
  t.same(bug.json(), { result: false, error: { code: 'GATEWAY_ERROR', message: 'The gateway could not complete this request; the error was logged' } })
  t.notMatch(bug.body, /secret internals/)

  const pbx = await app.inject('/pbx')
  t.equal(pbx.statusCode, 504)
  t.equal(pbx.json().error.code, 'PBX_TIMEOUT')
  t.match(pbx.headers['content-type'], /application\/json; charset=utf-8/)

  const v = await app.inject('/v?num=x')
  t.equal(v.statusCode, 400)
  t.match(v.json().error.message, /Parameter "num"/)

  const nf = await app.inject('/webapi/abc/no.such.get')
  t.equal(nf.statusCode, 404)
  t.same(nf.json().error, { code: 'UNKNOWN_METHOD', message: 'Method "no.such.get" does not exist; the list of methods is at /docs' })
  t.notMatch(nf.body, /abc/)
  const other = await app.inject('/favicon.ico')
  t.equal(other.json().error.code, 'NOT_FOUND')
})

t.test('a known path with another method: 405 METHOD_NOT_ALLOWED with Allow; unknown paths stay 404', async (t) => {
  const app = Fastify()
  await app.register(errorHandler)
  app.get('/pbx.calls.get', async () => ({ result: 0 }))
  app.get('/webapi/:key/pbx.calls.get', async () => ({ result: 0 }))
  app.post('/webhooks/:name/test', async () => ({ ok: true }))
  // A wildcard route that finds nothing (as @fastify/static does for a missing file) calls not-found.
  app.get('/files/*', async (_req, reply) => { reply.callNotFound() })
  t.teardown(() => app.close())

  const post = await app.inject({ method: 'POST', url: '/pbx.calls.get?key=x' })
  t.equal(post.statusCode, 405)
  t.equal(post.headers.allow, 'GET, HEAD')
  t.same(post.json(), { result: false, error: { code: 'METHOD_NOT_ALLOWED', message: 'POST is not allowed here; this address answers GET, HEAD' } })
  const keyed = await app.inject({ method: 'DELETE', url: '/webapi/some-key/pbx.calls.get' })
  t.equal(keyed.statusCode, 405, 'path parameters match any value')
  const get = await app.inject({ method: 'GET', url: '/webhooks/crm/test' })
  t.equal(get.statusCode, 405)
  t.equal(get.headers.allow, 'POST')
  const unknown = await app.inject({ method: 'POST', url: '/pbx.nothing.get' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.code, 'UNKNOWN_METHOD')
  t.equal(unknown.headers.allow, undefined)
  t.equal((await app.inject({ method: 'POST', url: '/webhooks/crm/test/more' })).statusCode, 404, 'a longer path is another path')
  for (const url of ['/t/acme/pbx.calls.get', '/t/acme/webapi/k/pbx.calls.get?x=1', '/t/acme', '/t/acme?key=k']) {
    const prefixed = await app.inject({ method: 'GET', url })
    t.equal(prefixed.statusCode, 404, url)
    t.same(prefixed.json(), { result: false, error: { code: 'NO_TENANTS', message: 'This gateway serves one PBX and has no tenants: leave the /t/{tenant}/ prefix out of the address' } }, `${url}: a tenant prefix on a gateway without tenants says so`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/tx/pbx.calls.get' })).json().error.code, 'UNKNOWN_METHOD', 'only the /t/ segment')
  const missing = await app.inject({ method: 'GET', url: '/files/nothing.txt' })
  t.equal(missing.statusCode, 404, 'a route of this method that found nothing is a 404, not a 405')
  t.equal(missing.headers.allow, undefined)
})

t.test('a method that exists, at an address it does not answer: the 404 says the address is wrong, not the method', async (t) => {
  const app = Fastify()
  await app.register(errorHandler)
  app.get('/pbx.calls.get', async () => ({ result: 0 }))
  app.get('/webapi/:key/pbx.calls.get', async () => ({ result: 0 }))
  t.teardown(() => app.close())
  for (const url of ['/webapi/k/pbx.calls.get/', '/WEBAPI/k/pbx.calls.get', '//webapi/k/pbx.calls.get', '/webapi/k/x/pbx.calls.get?y=1']) {
    const r = await app.inject({ url })
    t.equal(r.statusCode, 404, url)
    t.same(r.json().error, { code: 'UNKNOWN_METHOD', message: 'Method "pbx.calls.get" exists, but not at this address: call /webapi/{key}/pbx.calls.get or /pbx.calls.get, exactly so (lower-case webapi, no extra or trailing slash)' }, url)
    t.notMatch(r.body, '/k/', 'the key segment is not echoed')
  }
  t.match((await app.inject({ url: '/webapi/k/PBX.CALLS.GET' })).json().error, { code: 'UNKNOWN_METHOD', message: /^Method "PBX\.CALLS\.GET" does not exist/ }, 'an unknown name is still unknown')
})

t.test('routeRegex: parameters are one segment, * the rest, dots are literal', async (t) => {
  const { routeRegex } = await import('../../src/plugins/app/route-methods.js')
  t.ok(routeRegex('/webapi/:key/pbx.calls.get').test('/webapi/abc/pbx.calls.get'))
  t.notOk(routeRegex('/webapi/:key/pbx.calls.get').test('/webapi/a/b/pbx.calls.get'))
  t.notOk(routeRegex('/pbx.calls.get').test('/pbxxcalls.get'))
  t.ok(routeRegex('/docs/*').test('/docs/static/index.css'))
})
