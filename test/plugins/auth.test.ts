import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { methodScope } from '../../src/plugins/app/auth.js'
import { loggerOptions } from '../../src/logger-options.js'
import { CONTROL_KEY, READ_KEY, keyForms, startAppOnSimulator } from '../legacy/legacy-harness.js'

t.test('scopes: makecall and *.set need control', async (t) => {
  t.equal(methodScope('makecall'), 'control')
  t.equal(methodScope('ext.fwd.set'), 'control')
  t.equal(methodScope('ext.state.get'), 'read')
  t.equal(methodScope('calls.history.get'), 'read')
})

t.test('401 without a hint, 403 for a read key on a control method', async (t) => {
  const gw = await startAppOnSimulator(t)
  const bodies = new Set<string>()
  let n = 0
  for (const key of [undefined, '', 'wrong', READ_KEY.slice(0, -1), READ_KEY + 'x']) {
    const forms = key === undefined ? [{ url: '/pbx.calls.get', headers: {} }] : keyForms('pbx.calls.get', '', key)
    for (const f of forms) {
      const r = await gw.app.inject({ url: f.url, headers: f.headers, remoteAddress: `10.0.0.${++n}` })
      t.equal(r.statusCode, 401, `${f.url}`)
      t.equal(r.json().error.code, 'UNAUTHORIZED')
      bodies.add(r.body)
    }
  }
  t.equal(bodies.size, 1, 'every failure answers the same body')
  for (const f of keyForms('ext.fwd.set', 'num=101&status=Away', READ_KEY)) {
    const r = await gw.app.inject({ url: f.url, headers: f.headers })
    t.equal(r.statusCode, 403, f.form)
    t.same(r.json().error.code, 'FORBIDDEN_SCOPE')
  }
  for (const f of keyForms('pbx.calls.get', '', CONTROL_KEY)) {
    const r = await gw.app.inject({ url: f.url, headers: f.headers })
    t.equal(r.statusCode, 200, `control key reads too (${f.form})`)
  }
})

t.test('a key in several places: the same key passes; different keys are refused with 400, never one of them picked', async (t) => {
  const gw = await startAppOnSimulator(t, { listen: true })
  const base = `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
  const get = async (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any, text: string }> => {
    const res = await fetch(base + url, { headers })
    const text = await res.text()
    return { status: res.status, body: JSON.parse(text), text }
  }
  t.equal((await get(`/webapi/${READ_KEY}/pbx.calls.get?key=${READ_KEY}`, { 'x-api-key': READ_KEY })).status, 200, 'one key in all three places')
  const conflicts: Array<[string, Record<string, string>, RegExp]> = [
    [`/webapi/${READ_KEY}/pbx.calls.get`, { 'x-api-key': CONTROL_KEY }, /^The API key is given in the path and the X-API-Key header, with different values; give one key, once$/],
    [`/webapi/${READ_KEY}/pbx.calls.get?key=not-a-key-0000000000`, {}, /in the path and the key parameter,/],
    [`/pbx.calls.get?key=${READ_KEY}`, { 'x-api-key': 'not-a-key-0000000000' }, /in the key parameter and the X-API-Key header,/],
    [`/webapi/not-a-key-0000000000/pbx.calls.get?key=${READ_KEY}`, { 'x-api-key': READ_KEY }, /in the path, the key parameter and the X-API-Key header,/],
    // A read key where presentedKey() looks first and a control key behind it: not 403, not 200.
    [`/webapi/${READ_KEY}/ext.fwd.set?num=101&status=Away`, { 'x-api-key': CONTROL_KEY }, /in the path and the X-API-Key header/]
  ]
  for (const [url, headers, message] of conflicts) {
    const r = await get(url, headers)
    t.equal(r.status, 400, url.replace(READ_KEY, 'READ'))
    t.match(r.body, { result: false, error: { code: 'DUPLICATE_PARAMETER', message } })
    for (const key of [READ_KEY, CONTROL_KEY, 'not-a-key-0000000000']) t.notMatch(r.text, key, 'no key in the answer')
  }
})

type Injected = { statusCode: number, headers: Record<string, unknown>, json: () => any }

t.test('failed authentication is limited per client address; a valid key always passes', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { maxFailures: 3 } })
  const from = (remoteAddress: string, key: string): Promise<Injected> =>
    gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': key }, remoteAddress }) as never
  for (let i = 0; i < 3; i++) t.equal((await from('10.1.1.1', `guess${i}`)).statusCode, 401)
  const blocked = await from('10.1.1.1', 'guess4')
  t.equal(blocked.statusCode, 429)
  t.equal(blocked.json().error.code, 'RATE_LIMITED')
  t.ok(Number(blocked.headers['retry-after']) > 0, 'Retry-After')
  // One address, many people (NAT, a shared proxy): someone's wrong keys never refuse another's valid key.
  t.equal((await from('10.1.1.1', READ_KEY)).statusCode, 200, 'a valid key passes from a throttled address')
  t.equal((await from('10.1.1.1', CONTROL_KEY)).statusCode, 200, 'every valid key does')
  t.equal((await from('10.1.1.1', 'guess5')).statusCode, 429, 'wrong keys from there stay throttled')
  t.equal((await from('10.1.1.2', 'guess0')).statusCode, 401, 'another address is not affected')
  t.equal((await from('10.1.1.2', READ_KEY)).statusCode, 200)
})

t.test('TRUST_PROXY: the client address is the right-most X-Forwarded-For entry the proxy added, never one the client chose', async (t) => {
  // TRUST_PROXY=on: a proxy on this machine (loopback) appends the address it saw to X-Forwarded-For.
  const gw = await startAppOnSimulator(t, { auth: { maxFailures: 3 }, env: { TRUST_PROXY: 'on' } })
  const viaProxy = (forwardedFor: string, key: string): Promise<Injected> =>
    gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': key, 'x-forwarded-for': forwardedFor }, remoteAddress: '127.0.0.1' }) as never

  // An attacker at 203.0.113.66 rotates a made-up left-most entry: the throttle still sees 203.0.113.66.
  const rotating: number[] = []
  for (let i = 0; i < 5; i++) rotating.push((await viaProxy(`198.51.100.${i}, 203.0.113.66`, `guess${i}`)).statusCode)
  t.same(rotating, [401, 401, 401, 429, 429], 'rotating X-Forwarded-For does not dodge the throttle')

  // The attacker claims to be 192.0.2.10: the victim at 192.0.2.10 is neither throttled nor locked out.
  for (let i = 0; i < 5; i++) await viaProxy(`192.0.2.10, 203.0.113.66`, `other${i}`)
  t.equal((await viaProxy('192.0.2.10', READ_KEY)).statusCode, 200, "someone else's wrong keys do not lock out a valid key")
  t.equal((await viaProxy('192.0.2.10', 'typo')).statusCode, 401, "the victim's own first wrong key is a 401, not a 429")

  // A client that reaches the gateway directly (not through the trusted proxy) is its socket address.
  const direct = (key: string): Promise<Injected> =>
    gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': key, 'x-forwarded-for': '192.0.2.99' }, remoteAddress: '192.0.2.50' }) as never
  const directCodes: number[] = []
  for (let i = 0; i < 4; i++) directCodes.push((await direct(`d${i}`)).statusCode)
  t.same(directCodes, [401, 401, 401, 429])
  t.equal((await viaProxy('192.0.2.99', 'x')).statusCode, 401, 'the address it claimed was not charged')
})

t.test('general per-key limit', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 4 } })
  const codes: number[] = []
  for (let i = 0; i < 5; i++) codes.push((await gw.app.inject({ url: `/webapi/${READ_KEY}/pbx.calls.get`, remoteAddress: `10.2.0.${i}` })).statusCode)
  t.same(codes, [200, 200, 200, 200, 429], 'limited by key, whatever the address')
  const r = await gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': READ_KEY } })
  t.equal(r.json().error.code, 'RATE_LIMITED')
  t.ok(Number(r.headers['retry-after']) >= 1)
  t.notMatch(r.body, READ_KEY)
  t.equal((await gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': CONTROL_KEY } })).statusCode, 200, 'other keys are not affected')
})

t.test('the per-key limit follows the key when keys are reordered, added or removed (tenants rotate keys at runtime)', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 2 } })
  const status = async (key: string): Promise<number> => (await gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': key } })).statusCode
  const codes = [await status(READ_KEY), await status(READ_KEY), await status(READ_KEY)]
  t.same(codes, [200, 200, 429], 'the read key (first in the list) used up its window')
  const NEW_KEY = 'N'.repeat(20) + 'newkey'
  gw.app.apiKeys.replaceKeys([{ key: NEW_KEY, scope: 'read' }, { key: CONTROL_KEY, scope: 'control' }, { key: READ_KEY, scope: 'read' }])
  t.equal(await status(NEW_KEY), 200, 'a key added in front does not inherit the count of the key that was first')
  t.equal(await status(READ_KEY), 429, 'the read key, now third, keeps its own count')
  gw.app.apiKeys.replaceKeys([{ key: READ_KEY, scope: 'read' }, { key: CONTROL_KEY, scope: 'control' }])
  t.same([await status(CONTROL_KEY), await status(CONTROL_KEY)], [200, 200], 'nor does the key now second inherit the count of the key that was second')
  t.equal(await status(READ_KEY), 429, 'back in first place, the read key is still over its limit')
})

t.test('a key refused with 429 is served again once its window has ended, however often it retried meanwhile', async (t) => {
  const gw = await startAppOnSimulator(t, { auth: { perKeyMax: 2, perKeyWindowMs: 300 } })
  const codes: number[] = []
  const started = Date.now()
  // Hammering without a pause: every refused request is counted, and still does not prolong the wait.
  while (codes.at(-1) !== 200 || !codes.includes(429)) {
    codes.push((await gw.app.inject({ url: '/pbx.calls.get', headers: { 'x-api-key': READ_KEY } })).statusCode)
    if (Date.now() - started > 5000) break
  }
  t.same(codes.slice(0, 3), [200, 200, 429])
  t.equal(codes.at(-1), 200, `served again after ${codes.length - 3} refusals`)
  t.ok(Date.now() - started < 2000, 'within about one window')
})

for (const how of ['logger options', 'pino instance (as server.ts)']) t.test(`the key appears in no log line, in any form, success or failure: ${how}`, async (t) => {
  let logged = ''
  const stream = new Writable({ write (chunk, _enc, cb) { logged += String(chunk); cb() } })
  const gw = how === 'logger options'
    ? await startAppOnSimulator(t, { logger: loggerOptions('trace', stream), listen: true })
    : await startAppOnSimulator(t, { loggerInstance: pino(loggerOptions('trace') as pino.LoggerOptions, stream) as unknown as FastifyBaseLogger, listen: true })
  const base = `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
  const requests = [
    ...keyForms('ext.info.get', 'num=101', READ_KEY),
    ...keyForms('ext.info.get', 'num=999', READ_KEY),
    ...keyForms('ext.info.get', "num=1'", READ_KEY),
    ...keyForms('no.such.get', '', READ_KEY),
    ...keyForms('ext.fwd.set', 'num=101&status=Away', READ_KEY),
    ...keyForms('ext.fwd.set', 'num=101&status=Nope', CONTROL_KEY),
    ...keyForms('pbx.calls.get', '', CONTROL_KEY + 'wrong'),
    { form: 'info', url: `/webapi/${READ_KEY}/`, headers: {} },
    { form: 'bad url', url: `/webapi/${READ_KEY}/%zz`, headers: {} }
  ]
  for (const r of requests) await (await fetch(base + r.url, { headers: r.headers })).arrayBuffer()
  gw.sim.ctx.faults.apply({ xapiErrorRate: 1 })
  for (const r of keyForms('ext.info.get', 'num=102', READ_KEY)) {
    const res = await fetch(base + r.url, { headers: r.headers })
    t.equal(res.status >= 500, true, 'PBX failure answered 5xx')
    await res.arrayBuffer()
  }
  t.match(logged, /\[redacted\]/, 'requests were logged, redacted')
  t.match(logged, /"statusCode":404/)
  t.match(logged, /"url":"\/webapi\/\[redacted\]\/ext\.info\.get\?num=101"/, 'path form logged, redacted')
  t.match(logged, /"url":"\/ext\.info\.get\?num=101&key=\[redacted\]"/, 'query form logged, redacted')
  t.notOk(logged.includes(READ_KEY), 'read key nowhere in the log')
  t.notOk(logged.includes(CONTROL_KEY), 'control key (and wrong keys built from it) nowhere in the log')
})
