// Security review, as tests: secrets stay out of logs (at trace level), errors, /metrics, /docs, the
// delivery log and `config check`; two keys and two webhook secrets are valid at once (rotation);
// security headers; CORS off unless configured; X-Forwarded-For ignored unless TRUST_PROXY; TLS.
import t from 'tap'
import { Writable } from 'node:stream'
import path from 'node:path'
import { Agent, request } from 'undici'
import { Webhook } from 'standardwebhooks'
import { describeConfig, loadConfig } from '../src/config.js'
import { startGateway } from '../src/server.js'
import { startSim } from './pbx/pbx-fixture.js'
import { PBX } from './sim/pbx-under-test.js'
import { startReceiver } from './webhooks/receiver.js'
import { selfSignedCertificate } from './self-signed-cert.js'

const KEY_A = 'rotation-key-A-0123456789abcdef0123'
const KEY_B = 'rotation-key-B-fedcba9876543210fedc'
const READ_KEY = 'read-only-key-00112233445566778899'
const PBX_SECRET = 'pbx-client-secret-that-must-not-leak'
const SECRET_OLD = `whsec_${Buffer.alloc(32, 1).toString('base64')}`
const SECRET_NEW = `whsec_${Buffer.alloc(32, 2).toString('base64')}`
const SECRETS = [KEY_A, KEY_B, READ_KEY, PBX_SECRET, SECRET_OLD, SECRET_NEW, SECRET_OLD.slice(6), SECRET_NEW.slice(6)]

function sink (): { stream: Writable, text: () => string } {
  const chunks: string[] = []
  return { stream: new Writable({ write (c, _e, cb) { chunks.push(String(c)); cb() } }), text: () => chunks.join('') }
}

function leaks (text: string): string[] {
  return SECRETS.filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)))
}

t.test('secrets never leave the gateway; keys and webhook secrets rotate without downtime', async (t) => {
  const sim = await startSim(t)
  sim.ctx.directory.apiClients[0].secret = PBX_SECRET
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const logs = sink()
  const env = {
    PBX_URL: sim.url,
    PBX_CLIENT_ID: PBX.clientId,
    PBX_CLIENT_SECRET: PBX_SECRET,
    GATEWAY_KEYS: `${KEY_A}:control,${KEY_B}:control,${READ_KEY}:read`,
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: `${SECRET_NEW} ${SECRET_OLD}`,
    PORT: '0',
    DATA_DIR: t.testdir({}),
    LOG_LEVEL: 'trace',
    RECORDINGS_SOURCE: 'off',
    CALL_END_GRACE_MS: '100'
  }
  const config = loadConfig(env)
  const gw = await startGateway(config, { logStream: logs.stream })
  t.teardown(() => gw.close())
  await gw.services.pbx.callControl.ready()

  // Both control keys work at once (rotation), in all three forms; a wrong key and a read key fail.
  for (const key of [KEY_A, KEY_B]) {
    t.equal((await fetch(`${gw.url}/webapi/${key}/pbx.calls.get`)).status, 200)
    t.equal((await fetch(`${gw.url}/pbx.calls.get?key=${key}`)).status, 200)
    t.equal((await fetch(`${gw.url}/pbx.calls.get`, { headers: { 'x-api-key': key } })).status, 200)
    // Encoded spellings the router and query parser accept: they authenticate, so they must be redacted too.
    t.equal((await fetch(`${gw.url}/%77ebapi/${key}/pbx.calls.get`)).status, 200)
    t.equal((await fetch(`${gw.url}/pbx.calls.get?%6bey=${key}`)).status, 200)
  }
  const forbidden = await fetch(`${gw.url}/webapi/${READ_KEY}/ext.fwd.set?num=${PBX.n('101')}&status=Away`)
  t.equal(forbidden.status, 403)
  const wrong = await fetch(`${gw.url}/webapi/${KEY_A}x/ext.info.get?num=${PBX.n('101')}`)
  t.equal(wrong.status, 401)
  const wrongBody = await wrong.text()
  t.same(leaks(wrongBody + await forbidden.text()), [], 'no key in error bodies')
  // A failing PBX call (unknown extension) and a bad parameter: errors carry no secret.
  const notFound = await fetch(`${gw.url}/ext.info.get?num=999`, { headers: { 'x-api-key': KEY_A } })
  t.equal(notFound.status, 404)
  t.same(leaks(await notFound.text()), [])

  // One call → webhooks signed with both secrets: each verifies with standardwebhooks.
  await fetch(`${sim.url}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to: PBX.n('+15550102'), answer: PBX.n('102'), ringMs: 100, talkMs: 200, hangup: 'caller' })
  })
  await receiver.waitFor(3, 10_000)
  const got = receiver.received[0]
  const headers = { 'webhook-id': String(got.headers['webhook-id']), 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) }
  t.equal(headers['webhook-signature'].split(' ').length, 2, 'two signatures during a rotation')
  t.ok(new Webhook(SECRET_OLD).verify(got.body, headers), 'the old secret verifies')
  t.ok(new Webhook(SECRET_NEW).verify(got.body, headers), 'the new secret verifies')
  t.same(leaks(receiver.received.map((r) => r.body + JSON.stringify(r.headers)).join('\n')), [], 'no secret in payloads')

  const surfaces: Record<string, string> = {
    metrics: await (await fetch(`${gw.url}/metrics`)).text(),
    docs: await (await fetch(`${gw.url}/docs/json`)).text(),
    deliveries: await (await fetch(`${gw.url}/webhooks/deliveries?status=done`, { headers: { 'x-api-key': KEY_A } })).text(),
    configCheck: JSON.stringify(describeConfig(config)),
    healthz: await (await fetch(`${gw.url}/healthz`)).text(),
    readyz: await (await fetch(`${gw.url}/readyz`)).text()
  }
  t.match(surfaces.deliveries, /"deliveries"/, 'the delivery log answered')
  for (const [name, text] of Object.entries(surfaces)) t.same(leaks(text), [], `no secret in ${name}`)

  // Security headers; CORS is off by default.
  const res = await fetch(`${gw.url}/pbx.calls.get`, { headers: { 'x-api-key': KEY_A, origin: 'https://evil.example' } })
  // A JSON API answer: the short REST set (src/plugins/external/security-headers.ts).
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  t.equal(res.headers.get('cache-control'), 'no-store')
  t.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'")
  t.equal(res.headers.get('referrer-policy'), 'no-referrer')
  t.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin')
  t.equal(res.headers.get('x-frame-options'), null, 'no document-only headers on a JSON answer')
  // Plain HTTP: no https-only headers, or a browser on a LAN host name fetches /docs' scripts over https.
  t.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP')
  // A page: helmet's full set.
  const docs = await fetch(`${gw.url}/docs/`)
  t.equal(docs.status, 200)
  t.match(docs.headers.get('content-type') ?? '', /text\/html/)
  t.match(docs.headers.get('content-security-policy') ?? '', /^default-src 'self';/, 'the page\'s CSP')
  t.notMatch(docs.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/, 'no upgrade-insecure-requests over plain HTTP')
  t.equal(docs.headers.get('x-frame-options'), 'SAMEORIGIN')
  t.equal(docs.headers.get('x-content-type-options'), 'nosniff')
  t.equal(docs.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP')
  t.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS unless configured')
  t.equal(res.headers.get('x-powered-by'), null)

  await gw.close()
  const text = logs.text()
  t.ok(text.includes('"level":10') || text.includes('"level":20'), 'debug/trace lines were written')
  t.same(leaks(text), [], 'no secret in any log line at trace level')
})

t.test('CORS only for configured origins; X-Forwarded-For only with TRUST_PROXY', async (t) => {
  const { buildApp } = await import('../src/app.js')
  const config = loadConfig({ CORS_ORIGINS: 'https://crm.example', DATA_DIR: t.testdir({}) })
  const deps = { config, xapi: {} as never, callControl: {} as never, calls: { list: () => [], size: () => 0, isBusy: () => false, isTalking: () => false, reserve: () => ({ chid: '', legacyId: '' }) } }
  const app = await buildApp(deps, { auth: { maxFailures: 2 } })
  t.teardown(() => app.close())
  const ok = await app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': 'demo', origin: 'https://crm.example' } })
  t.equal(ok.headers['access-control-allow-origin'], 'https://crm.example')
  const other = await app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': 'demo', origin: 'https://evil.example' } })
  t.equal(other.headers['access-control-allow-origin'], undefined)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/pbx.calls.get', headers: { origin: 'https://crm.example', 'access-control-request-method': 'GET' } })
  t.equal(preflight.statusCode, 204)

  // Without TRUST_PROXY a client cannot dodge the failed-key throttle by inventing X-Forwarded-For.
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    const r = await app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': `wrong-${i}`, 'x-forwarded-for': `10.0.0.${i}` } })
    statuses.push(r.statusCode)
  }
  t.equal(statuses.at(-1), 429, `throttled despite changing X-Forwarded-For (${statuses.join(',')})`)
})

t.test('TLS directly with TLS_CERT and TLS_KEY', async (t) => {
  // The certificate is made in-process (no openssl CLI), so this test always runs.
  const { cert: certPem, key: keyPem } = selfSignedCertificate()
  const dir = t.testdir({ 'cert.pem': certPem, 'key.pem': keyPem })
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  const gw = await startGateway(loadConfig({ PORT: '0', DATA_DIR: path.join(dir, 'data'), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off', TLS_CERT: cert, TLS_KEY: key }), { logStream: sink().stream })
  t.teardown(() => gw.close())
  t.match(gw.url, /^https:\/\//)
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  t.teardown(() => dispatcher.close())
  const res = await request(`${gw.url}/webapi/demo/pbx.calls.get`, { dispatcher })
  t.equal(res.statusCode, 200)
  t.ok(res.headers['strict-transport-security'], 'HSTS when the gateway serves TLS, on API answers too')
  t.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
  t.same(await res.body.json(), { result: 0 })
  const page = await request(`${gw.url}/console/`, { dispatcher })
  t.equal(page.statusCode, 200)
  await page.body.text()
  t.ok(page.headers['strict-transport-security'], 'HSTS on pages')
  t.match(String(page.headers['content-security-policy']), /upgrade-insecure-requests/, 'the page\'s CSP upgrades its requests')
})
