// Which tenant a request reaches (tenant-routing.ts), and what the front server answers itself:
// /readyz with every tenant, /metrics with the `tenant` label, the console's gw_tenant cookie.
import t from 'tap'
import Fastify from 'fastify'
import { keyDigest, prefixedLocation, TenantDirectory } from '../../src/tenants/tenant-routing.js'
import { QueryNames } from '../../src/query-names.js'
import { api, KEYS, startTwoTenants } from './two-tenants.js'
import { rawGet } from '../http-raw.js'

// A router shaped like the tenants' apps (the key form and plain paths), with the gateway's options.
const router = Fastify({ routerOptions: { maxParamLength: 500, querystringParser: new QueryNames().parse } })
router.get('/webapi/:key/*', async () => null)
router.get('/webapi/:key', async () => null)
router.get('/*', async () => null)
// beta's key is known only by its SHA-256, as the tenants table stores it.
const dir = new TenantDirectory([
  { id: 'acme', keys: [{ key: 'acme-key-0123456789abcdef' }] },
  { id: 'beta', keys: [{ key: '', sha256: keyDigest('beta-key-0123456789abcdef') }] }
], 'acme', (method, url) => router.findRoute({ method: method as 'GET', url }))
const route = (url: string, headers: Record<string, string> = {}): ReturnType<TenantDirectory['route']> => dir.route({ url, headers })

t.test('the prefix, then the key, then the cookie, else the first tenant', async (t) => {
  t.same(route('/t/beta/pbx.ac.get?x=1'), { kind: 'tenant', id: 'beta', url: '/pbx.ac.get?x=1', prefix: '/t/beta' }, 'the prefix is removed')
  t.same(route('/t/beta'), { kind: 'tenant', id: 'beta', url: '/', prefix: '/t/beta' })
  t.same(route('/t/nope/pbx.ac.get'), { kind: 'unknown-tenant', id: 'nope' })
  t.same(route('/t/acme/pbx.ac.get', { 'x-api-key': 'beta-key-0123456789abcdef' }), { kind: 'tenant', id: 'acme', url: '/pbx.ac.get', prefix: '/t/acme' }, 'the prefix wins over the key (and acme refuses beta\'s key)')
  t.same(route('/pbx.ac.get', { 'x-api-key': 'beta-key-0123456789abcdef' }), { kind: 'tenant', id: 'beta', url: '/pbx.ac.get' }, 'X-API-Key')
  t.same(route('/pbx.ac.get?key=beta-key-0123456789abcdef'), { kind: 'tenant', id: 'beta', url: '/pbx.ac.get?key=beta-key-0123456789abcdef' }, '?key=')
  t.same(route('/webapi/beta-key-0123456789abcdef/pbx.ac.get'), { kind: 'tenant', id: 'beta', url: '/webapi/beta-key-0123456789abcdef/pbx.ac.get' }, '/webapi/{key}/')
  t.same(route('/console/api/calls', { cookie: 'a=1; gw_tenant=beta' }), { kind: 'tenant', id: 'beta', url: '/console/api/calls' }, 'the console cookie')
  t.same(route('/console/api/calls', { cookie: 'gw_tenant=nope' }), { kind: 'tenant', id: 'acme', url: '/console/api/calls' }, 'an unknown cookie: the first tenant')
  t.same(route('/pbx.ac.get', { 'x-api-key': 'wrong-key-0123456789abcdef' }), { kind: 'tenant', id: 'acme', url: '/pbx.ac.get' }, 'an unknown key: the first tenant (which answers 401)')
  t.same(route('/readyz'), { kind: 'front', path: '/readyz' })
  t.same(route('/metrics?x'), { kind: 'front', path: '/metrics' })
})

t.test('the key is read as the API reads it: encoded forms reach the key\'s tenant, a repeated key none', async (t) => {
  const beta = 'beta-key-0123456789abcdef'
  const to = (url: string): string => { const r = route(url); return r.kind === 'tenant' ? r.id : r.kind }
  t.equal(to(`/%77ebapi/${beta}/pbx.ac.get`), 'beta', '/%77ebapi/: the router decodes the path before it matches')
  t.equal(to(`/%77%65%62%61%70%69/${beta}/pbx.ac.get`), 'beta', 'every letter encoded')
  t.equal(to(`/webapi/${beta.replace('-', '%2D')}/pbx.ac.get`), 'beta', 'an encoded character in the key')
  t.equal(to(`/webapi/${beta}`), 'beta', 'gateway information, no trailing slash')
  t.equal(to(`/pbx.ac.get?%6bey=${beta}`), 'beta', '?%6bey=: the query parser decodes names')
  t.equal(to(`/pbx.ac.get?x=1&ke%79=${beta}`), 'beta')
  t.equal(to(`/pbx.ac.get?KEY=${beta}`), 'beta', '?KEY=: names in any case (src/query-names.ts)')
  t.equal(to(`/pbx.ac.get?key=${beta}&key=${beta}`), 'acme', 'a repeated key is no key (the app answers 400 DUPLICATE_PARAMETER)')
  t.equal(to(`/WEBAPI/${beta}/pbx.ac.get`), 'acme', 'the router is case-sensitive: no key form, as on one PBX')
})

t.test('a redirect inside a tenant prefix keeps the prefix', async (t) => {
  t.equal(prefixedLocation('/console/', '/t/beta'), '/t/beta/console/')
  t.equal(prefixedLocation('/docs/static/index.html?x=1', '/t/beta'), '/t/beta/docs/static/index.html?x=1')
  t.equal(prefixedLocation('static/index.html', '/t/beta'), 'static/index.html', 'relative: resolves under the prefix already')
  t.equal(prefixedLocation('https://example.com/x', '/t/beta'), 'https://example.com/x')
  t.equal(prefixedLocation('//example.com/x', '/t/beta'), '//example.com/x', 'scheme-relative: another host')
})

t.test('the front server: every tenant in /readyz and /metrics, the console cookie, unknown tenants', async (t) => {
  const x = await startTwoTenants(t)
  const ready = await api(x.gw, '/readyz')
  t.equal(ready.status, 200)
  const body = JSON.parse(ready.text) as { ready: boolean, mode: string, unready: string[], tenants: Record<string, { ready: boolean, checks: Record<string, { ok: boolean }> }> }
  t.equal(body.mode, 'tenants')
  t.same(Object.keys(body.tenants), ['acme', 'beta'], 'one entry per tenant')
  t.equal(body.tenants.beta.checks.websocket.ok, true)
  t.equal((await api(x.gw, '/t/beta/readyz')).status, 200, 'one tenant\'s readiness under its prefix')

  // One tenant's PBX gone: that tenant is unready, the process still serves the other.
  await x.sims.beta.close()
  const deadline = Date.now() + 15_000
  let partly = body
  while (Date.now() < deadline) {
    const r = await api(x.gw, '/readyz')
    partly = JSON.parse(r.text) as typeof body
    if (partly.unready.includes('beta')) { t.equal(r.status, 200, 'still 200 while another tenant is ready'); break }
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  t.same(partly.unready, ['beta'], 'beta is listed unready')
  t.equal(partly.ready, false)

  const metrics = await api(x.gw, '/metrics')
  t.match(metrics.text, /gateway_calls_in_progress\{tenant="acme"\} 0/)
  t.match(metrics.text, /gateway_calls_in_progress\{tenant="beta"\} 0/)
  t.equal(metrics.text.match(/^# TYPE gateway_calls_in_progress /gm)?.length, 1, 'one metric family for all tenants')
  t.match(metrics.text, /gateway_process_resident_memory_bytes \d/, 'the process\'s metrics once, without a tenant')
  t.notOk(metrics.text.includes(KEYS.acme) || metrics.text.includes(KEYS.beta), 'no key in the metrics')

  const unknown = await api(x.gw, '/t/gamma/pbx.ac.get', KEYS.acme)
  t.equal(unknown.status, 404)
  t.match(JSON.parse(unknown.text), { result: false, error: { code: 'UNKNOWN_TENANT' } })
  t.equal((await api(x.gw, '/pbx.ac.get')).status, 401, 'no key: 401 from the first tenant')
  for (const [url, location] of [['/t/beta/console', '/t/beta/console/'], ['/t/beta/', '/t/beta/console/']]) {
    const r = await api(x.gw, url, undefined, { redirect: 'manual' })
    t.equal(r.status, 302, url)
    t.equal(r.headers.get('location'), location, `${url}: the redirect stays inside the tenant`)
  }
  // beta's key at acme would be 401: a 200 means the encoded forms reached beta.
  t.equal((await api(x.gw, `/%77ebapi/${KEYS.beta}/pbx.ac.get`)).status, 200, '/%77ebapi/{key}/ reaches the key\'s tenant')
  t.equal((await api(x.gw, `/pbx.ac.get?%6bey=${KEYS.beta}`)).status, 200, '?%6bey= reaches the key\'s tenant')
  t.equal((await api(x.gw, `/pbx.ac.get?Key=${KEYS.beta}`)).status, 200, '?Key= reaches the key\'s tenant')
  // A client that half-closes after its request (src/half-open.ts): the front server answers it too.
  const halfClosed = await rawGet(Number(new URL(x.gw.url).port), '/ext.info.get?num=101', [`X-API-Key: ${KEYS.acme}`]) // beta's PBX is closed by now
  t.equal(halfClosed.status, 200, `half-closed: ${halfClosed.body.slice(0, 300)}`)

  const login = await api(x.gw, '/console/api/login', undefined, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: KEYS.beta }) })
  t.equal(login.status, 200, login.text)
  const cookies = login.headers.getSetCookie()
  t.ok(cookies.some((c) => c.startsWith('gw_tenant=beta;') && c.includes('HttpOnly')), 'the login sets gw_tenant to the key\'s tenant')
  const cookie = cookies.map((c) => c.split(';')[0]).join('; ')
  const session = await api(x.gw, '/console/api/session', undefined, { headers: { cookie } })
  t.equal(session.status, 200, 'the session is found at the tenant it was opened on')
  const wrong = await api(x.gw, '/console/api/login', undefined, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'nobody-0123456789abcdef' }) })
  t.equal(wrong.status, 401, 'a key of no tenant: 401')
  t.notOk(wrong.headers.getSetCookie().some((c) => c.startsWith('gw_tenant=')), 'and no tenant cookie')
})
