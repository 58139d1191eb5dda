// Hostile input over every route of a whole gateway (startGateway on a real simulator, requests by
// app.inject): 10,000+ seeded requests with random methods, parameters (missing, empty, overlong,
// non-ASCII, %00, quotes, ../, OData operators), encodings, big headers, traversal on /recordings
// and oversized bodies. Pass: no 5xx, every error is JSON, and every caller-supplied string that
// reached an XAPI URL sits inside an OData literal with its quotes doubled.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { seededRandom } from '../../src/sim/engine/seeded-random.js'
import { PBX } from '../sim/pbx-under-test.js'

const KEY = 'fuzz-control-key-3b8f2e1d9c'
const READ = 'fuzz-read-key-0a7d4c6e2b91'
const REQUESTS = 10_000
/** Marks hostile text so it can be found in the simulator's request log. */
const MARK = 'ZQX'


const METHODS = ['pbx.calls.get', 'pbx.ac.get', 'pbx.callsinfo.get', 'ext.list.get', 'ext.registered.get', 'dept.list.get', 'queue.list.get',
  'group.list.get', 'ivr.list.get', 'line.list.get', 'ext.info.get', 'ext.state.get', 'queue.members.get', 'queue.free.get', 'queue.talk.get',
  'queue.isfree.get', 'group.members.get', 'group.free.get', 'makecall', 'ext.fwd.set', 'ext.queueglobal.set', 'ext.queue.set', 'ext.options.set',
  'no.such.method', '']
const PARAMS = ['num', 'first', 'second', 'contact', 'timeout', 'status', 'log', 'queue', 'enabled', 'external', 'recording', 'key', 'from', 'to',
  'format', 'kind', 'status', 'limit', 'since', 'dn', 'did', 'extension', 'page', '$filter', '$top', 'x']
// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const A = PBX.n('101')
const VALID = [A, ...['102', '800', '700', '900'].map((n) => PBX.n(n)), '+15559870000', '0', '-1', '*', '#', 'Away', 'Available', 'on', 'off', 'all', '1000', 'json', 'csv', 'xlsx', '2026-11-20', 'failed']
const HOSTILE = ['', 'x'.repeat(300), '9'.repeat(5000), '１０１', 'Zoë', '📞', '\u0000', '\'', "''", `${MARK}' or 1 eq 1 or 'ZQY`, `${MARK}z`, `1${MARK}#`, `101${MARK}' or Number ne '`,
  `${MARK}')/Pbx.DeleteAll(`, `$filter=Id gt 0${MARK}`, '../../etc/passwd', '..\\..\\windows', '%00', '%zz', '<script>', 'a&b=c', '\r\nX-Evil: 1', ' ', '-1', '1e309', 'NaN', 'null', '[]', '{}']

// Built once, not per request (a 200 kB body made for each POST was a quarter of this file's CPU).
const PAYLOADS = ['', '{', '{"a":1}', 'x'.repeat(70_000), JSON.stringify({ big: 'y'.repeat(200_000) }), '\u0000\u0001']
const BIG_HEADER = 'b'.repeat(15_000)

function pick<T> (rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]
}

function encode (rnd: () => number, v: string): string {
  const r = rnd()
  if (r < 0.5) return encodeURIComponent(v)
  if (r < 0.7) return encodeURIComponent(v).replace(/%20/g, '+')
  if (r < 0.8) return [...Buffer.from(v, 'latin1')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('') // wrong charset
  if (r < 0.9) return [...v].map((c) => /[A-Za-z0-9]/.test(c) ? `%${c.charCodeAt(0).toString(16)}` : encodeURIComponent(c)).join('') // over-encoded
  return v.replace(/[#\s%&?]/g, (c) => encodeURIComponent(c)) // nearly raw
}

/** A parameter name with some letters percent-encoded (`%6bey`, `ke%79`): servers decode names too. */
function encodedName (rnd: () => number, name: string): string {
  return [...name].map((c) => rnd() < 0.5 ? `%${c.charCodeAt(0).toString(16)}` : c).join('')
}

function query (rnd: () => number): string {
  const parts: string[] = []
  const n = Math.floor(rnd() * 5)
  for (let i = 0; i < n; i++) {
    const r = rnd()
    const name = r < 0.1 ? encode(rnd, pick(rnd, HOSTILE)) : r < 0.2 ? encodedName(rnd, pick(rnd, PARAMS)) : pick(rnd, PARAMS)
    const value = rnd() < 0.5 ? pick(rnd, VALID) : pick(rnd, HOSTILE)
    const part = rnd() < 0.05 ? name : `${name}=${encode(rnd, value)}`
    parts.push(part)
    if (rnd() < 0.1) parts.push(rnd() < 0.5 ? part : `${encodedName(rnd, name)}=${encode(rnd, pick(rnd, VALID))}`) // repeated
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

/**
 * Places where hostile text escaped its OData literal: a marker outside a literal, or a marker followed
 * by a quote that is not doubled (every hostile value with a quote has the quote right after MARK).
 */
export function markersOutsideLiterals (url: string): number {
  let inLiteral = false
  let bad = 0
  for (let i = 0; i < url.length; i++) {
    if (url.startsWith(MARK, i) && (!inLiteral || (url[i + MARK.length] === '\'' && url[i + MARK.length + 1] !== '\''))) bad++
    if (url.startsWith('ZQY', i) && !inLiteral) bad++
    if (url[i] !== '\'') continue
    if (inLiteral && url[i + 1] === '\'') { i++; continue }
    inLiteral = !inLiteral
  }
  return bad + (inLiteral ? 1 : 0)
}

t.test('10,000 hostile requests over every route: no 5xx, JSON errors, nothing unescaped reaches XAPI', async (t) => {
  const sim = await createSimulator(PBX.simOptions)
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gw-fuzz-'))
  const gw = await startGateway(loadConfig({
    PBX_URL: sim.url,
    PBX_CLIENT_ID: PBX.clientId,
    PBX_CLIENT_SECRET: PBX.secret,
    GATEWAY_KEYS: `${KEY}:control,${READ}:read`,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    WEBHOOK_URLS: 'http://127.0.0.1:9/hook',
    RATE_LIMIT_PER_MINUTE: '10000000',
    LOG_LEVEL: 'silent'
  }), { shutdownTimeoutMs: 2000 })
  t.teardown(async () => {
    await gw.close()
    await sim.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  // Calls happen while we fuzz, so the live-call paths run too.
  await fetch(`${sim.url}/_sim/traffic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ callsPerSecond: 2, seconds: 20, seed: 3, maxRingMs: 1000, maxTalkMs: 2000 }) })

  const routes = [...gw.app.printRoutes({ commonPrefix: false }).matchAll(/(\/\S*) \(([A-Z, ]+)\)/g)].map((m) => ({ path: m[1], methods: m[2].split(', ') }))
  t.ok(routes.length >= 10, `${routes.length} routes found`)
  const rnd = seededRandom(20261121)
  const failures: string[] = []
  let sent = 0
  const statuses = new Map<number, number>()

  const fill = (p: string): string => p.replace(/:(\w+)/g, (_m, name: string) => {
    if (name === 'key') return pick(rnd, [KEY, READ, 'wrong-key-123456789', encode(rnd, pick(rnd, HOSTILE)), ''])
    if (name === 'method') return pick(rnd, METHODS)
    return encode(rnd, pick(rnd, [...HOSTILE, ...VALID, '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fwebhooks.db', 'a'.repeat(40) + '.mp3', '..', '.']))
  }).replace('*', () => encode(rnd, pick(rnd, [...METHODS, ...HOSTILE])))

  while (sent < REQUESTS) {
    const route = pick(rnd, routes)
    const legacy = rnd() < 0.4
    const method = legacy ? 'GET' : pick(rnd, [...route.methods, 'POST', 'PUT', 'DELETE', 'OPTIONS'])
    let url = legacy ? `${rnd() < 0.5 ? '' : `/webapi/${pick(rnd, [KEY, READ, 'bad-key-0000000000'])}`}/${pick(rnd, METHODS)}` : fill(route.path)
    if (rnd() < 0.05) url = `/recordings/${encode(rnd, pick(rnd, ['../../../../etc/passwd', '..%2f..%2fdata', '%2e%2e', 'x/../../']))}/${encode(rnd, pick(rnd, ['passwd', '..', 'webhooks.db']))}`
    url += query(rnd)
    const headers: Record<string, string> = {}
    const h = rnd()
    if (h < 0.6) headers['x-api-key'] = pick(rnd, [KEY, READ, 'nope', '', 'x'.repeat(2000)])
    if (h > 0.9) headers['x-big'] = BIG_HEADER.slice(0, Math.floor(rnd() * 15_000))
    if (rnd() < 0.1) headers['content-type'] = pick(rnd, ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])
    const payload = method === 'POST' || method === 'PUT' ? pick(rnd, PAYLOADS) : undefined
    sent++
    let res
    try {
      // Many client addresses, so the failed-key throttle (per address) does not answer everything with 429.
      const remoteAddress = `10.${Math.floor(rnd() * 250)}.${Math.floor(rnd() * 250)}.${1 + Math.floor(rnd() * 250)}`
      res = await gw.app.inject({ method: method as 'GET', url, headers, remoteAddress, ...(payload !== undefined ? { payload } : {}) })
    } catch (err) {
      failures.push(`${method} ${url.slice(0, 120)}: inject threw ${err instanceof Error ? err.message : String(err)}`)
      continue
    }
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    const readyz = url.startsWith('/readyz') && res.statusCode === 503
    if (res.statusCode >= 500 && !readyz) failures.push(`${method} ${url.slice(0, 160)} → ${res.statusCode} ${res.body.slice(0, 160)}`)
    if (res.statusCode >= 400 && method !== 'HEAD') {
      const ct = String(res.headers['content-type'] ?? '')
      let json = false
      try { JSON.parse(res.body); json = true } catch {}
      if (!ct.includes('json') || !json) failures.push(`${method} ${url.slice(0, 160)} → ${res.statusCode} not JSON (${ct}): ${res.body.slice(0, 100)}`)
    }
    if (failures.length > 30) break
  }
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`)
  t.equal(sent, REQUESTS, `${sent} requests sent`)
  t.same(failures.slice(0, 30), [], 'no 5xx, every error JSON')

  // Marked values that pass validation, so the literal check below always has URLs to look at
  // (random requests rarely combine a valid key, method and parameter).
  // (The checker expects a quote right after MARK only where the value has one, hence the `z`.)
  for (const url of [`/ext.info.get?num=${MARK}z`, `/ext.state.get?num=1${MARK}%23`, `/report.calllog.get?from=2026-11-01&to=2026-11-02&ext=${MARK}z`,
    `/report.abandoned.get?from=2026-11-01&to=2026-11-02&queue=${MARK}z`, `/calls.history.get?from=2026-11-01&to=2026-11-02&ext=%2B${MARK}z`]) {
    const r = await gw.app.inject({ url, headers: { 'x-api-key': KEY } })
    t.ok(r.statusCode < 500, `${url} → ${r.statusCode}`)
  }
  const unescaped = sim.ctx.requestLog
    .map((e) => { try { return decodeURIComponent(e.url) } catch { return e.url } })
    .filter((u) => (u.includes(MARK) || u.includes('ZQY')) && markersOutsideLiterals(u) > 0)
  const carried = sim.ctx.requestLog.filter((e) => { try { return decodeURIComponent(e.url).includes(MARK) } catch { return false } }).length
  t.comment(`${sim.ctx.requestLog.length} XAPI requests, ${carried} carried hostile text`)
  t.ok(carried > 0, `hostile text did reach XAPI (${carried} requests), so the literal check below checks something`)
  t.same(unescaped.slice(0, 10), [], 'hostile text reached XAPI only inside quoted literals')
  t.equal(gw.app.server.listening, true, 'still up')

  // Requests the PBX itself refuses (numbers it cannot dial, a disabled extension): the caller's
  // mistake, so a 4xx with a code, never a 5xx.
  await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })
  const refused = ['0', '-1', '%2B0'].map((second) => `/makecall?first=${A}&second=${second}`)
  let refusals = 0
  for (const url of refused) {
    const r = await gw.app.inject({ url, headers: { 'x-api-key': KEY } })
    t.ok(r.statusCode >= 400 && r.statusCode < 500, `${url} → ${r.statusCode} ${r.body.slice(0, 120)}`)
    t.type(r.json().error?.code, 'string')
    refusals++
  }
  t.equal(refusals, refused.length)
  // Repeated and encoded-name parameters on routes of every kind.
  const repeated = ['/report.calllog.get?from=2026-11-01&from=2026-11-01&to=2026-11-02', `/ext.info.get?num=${A}&%6eum=${A}`,
    '/recordings.list.get?from=2026-11-01&to=2026-11-02&t%6f=2026-11-02', '/webhooks/deliveries?limit=1&limit=2', '/recordings/x/y.mp3?a=1&a=2']
  for (const url of repeated) {
    const r = await gw.app.inject({ url, headers: { 'x-api-key': KEY } })
    t.equal(r.statusCode, 400, `${url} → 400`)
    t.equal(r.json().error?.code, 'DUPLICATE_PARAMETER', url)
  }
})

t.test('the literal checker itself', async (t) => {
  t.equal(markersOutsideLiterals(`/Users?$filter=Number eq '${MARK}'' or 1 eq 1 or ''ZQY'`), 0)
  t.equal(markersOutsideLiterals(`/Users?$filter=Number eq '${MARK}' or 1 eq 1 or 'ZQY'`), 1)
  t.equal(markersOutsideLiterals(`/Users?$filter=Number eq '101${MARK}'' or Number ne '''`), 0)
  t.equal(markersOutsideLiterals(`/Users(${MARK})`), 1)
})
