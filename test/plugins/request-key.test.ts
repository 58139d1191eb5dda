// Where a request carries its key, and how log lines lose it: every spelling of a key the router or
// the query parser accepts (and the near-misses a client may send) is driven over a real socket
// through the real logger (server.ts's pino options) with the PBX up, the PBX down and an
// unexpected error; the captured log must not hold the key in any form.
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { Writable } from 'node:stream'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { requireScope } from '../../src/plugins/app/auth.js'
import { loggerOptions } from '../../src/logger-options.js'
import { isSecretParam, presentedKey, redactUrl } from '../../src/plugins/app/request-key.js'
import { READ_KEY, startAppOnSimulator } from '../legacy/legacy-harness.js'

/** Every character percent-encoded, as a client (or an attacker) may send it. */
const encodeAll = (s: string): string => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`).join('')

t.test('redactUrl works on the URL as the router and the query parser decode it', async (t) => {
  const cases: Array<[string, string]> = [
    ['/webapi/s3cret/pbx.calls.get', '/webapi/[redacted]/pbx.calls.get'],
    ['/webapi/s3cret/', '/webapi/[redacted]/'],
    ['/webapi/s3cret', '/webapi/[redacted]'],
    ['/WEBAPI/s3cret/x?key=s3cret', '/WEBAPI/[redacted]/x?key=[redacted]'],
    ['/ext.info.get?num=101&key=s3cret&x=1', '/ext.info.get?num=101&key=[redacted]&x=1'],
    ['/ext.info.get?KEY=s3cret', '/ext.info.get?KEY=[redacted]'],
    ['/ext.info.get?key=a&key=b', '/ext.info.get?key=[redacted]&key=[redacted]'],
    ['/ext.info.get?monkey=1&keyboard=2', '/ext.info.get?monkey=1&keyboard=2'],
    // Encoded forms that authenticate: decoded first, then redacted.
    ['/pbx.calls.get?%6bey=s3cret', '/pbx.calls.get?key=[redacted]'],
    ['/pbx.calls.get?ke%79=s3cret', '/pbx.calls.get?key=[redacted]'],
    ['/%77ebapi/s3cret/pbx.calls.get', '/webapi/[redacted]/pbx.calls.get'],
    [`/webapi/${encodeAll('s3cret')}/x`, '/webapi/[redacted]/x'],
    [`/x?key=${encodeAll('s3cret')}`, '/x?key=[redacted]'],
    // Forms that do not authenticate but still carry the key.
    ['//webapi/s3cret/pbx.calls.get', '//webapi/[redacted]/pbx.calls.get'],
    ['/./webapi/s3cret/pbx.calls.get', '/./webapi/[redacted]/pbx.calls.get'],
    ['/webapi//s3cret/x', '/webapi//[redacted]/x'],
    ['/webapi/./s3cret/x', '/webapi/./[redacted]/x'],
    ['/%2577ebapi/s3cret/x', '/webapi/[redacted]/x'],
    ['/webapi%2Fs3cret/x', '/webapi/[redacted]/x'],
    ['/pbx.calls.get?key[]=s3cret', '/pbx.calls.get?key[]=[redacted]'],
    ['/pbx.calls.get?x=1;key=s3cret', '/pbx.calls.get?x=1;key=[redacted]'],
    ['/pbx.calls.get;key=s3cret', '/pbx.calls.get;key=[redacted]'],
    ['/pbx.calls.get?x=1%26key=s3cret', '/pbx.calls.get?x=1&key=[redacted]'],
    ['/pbx.calls.get?x=?key=s3cret', '/pbx.calls.get?x=?key=[redacted]'],
    ['/pbx.calls.get#key=s3cret', '/pbx.calls.get#key=[redacted]'],
    ['/pbx.calls.get?api_key=s3cret&X-API-Key=s3cret&ke+y=s3cret', '/pbx.calls.get?api_key=[redacted]&X-API-Key=[redacted]&ke+y=[redacted]'],
    ['/recordings/tok3n/261121_1-0.mp3', '/recordings/[redacted]/261121_1-0.mp3'],
    ['/webapi/s3cret/%zz', '/webapi/[redacted]/%zz']
  ]
  for (const [url, want] of cases) t.equal(redactUrl(url), want, url)
  t.equal(cases.length, 28)
  // Without a `%`, a URL without a key comes back as the same string (nothing decoded, nothing copied).
  const plain = '/ext.state.get?num=101'
  t.equal(redactUrl(plain), plain)
  // Error messages that quote a URL lose the key the same way.
  t.equal(redactUrl('GET /webapi/s3cret/x failed: fetch http://h/x?key=s3cret'), 'GET /webapi/[redacted]/x failed: fetch http://h/x?key=[redacted]')
  t.equal(redactUrl('key=s3cret rejected; api_key=s3cret too'), 'key=[redacted]; api_key=[redacted]', 'values run to the next separator: over-redacting a message is harmless')
  t.equal(redactUrl('/webapi\\s3cret\\x'), '/webapi\\[redacted]\\x', 'backslash as a separator')
  t.equal(redactUrl('/x?a=b=key=s3cret'), '/x?a=b=key=s3cret', 'a value holding "=" is one value (the parser agrees)')
})

t.test('isSecretParam: the key and its look-alikes, not words that merely contain "key"', async (t) => {
  for (const name of ['key', 'KEY', 'key[]', 'key[0]', 'ke y', 'api_key', 'apiKey', 'x-api-key', 'token', 'access_token', 'authorization']) t.ok(isSecretParam(name), name)
  for (const name of ['monkey', 'keys', 'num', 'from', 'keyboard', '']) t.notOk(isSecretParam(name), name)
})

t.test('presentedKey: path parameter, then query, then X-API-Key; arrays are no key', async (t) => {
  t.equal(presentedKey({ params: { key: 'p' }, query: { key: 'q' }, headers: { 'x-api-key': 'h' } }), 'p')
  t.equal(presentedKey({ params: {}, query: { key: 'q' }, headers: { 'x-api-key': 'h' } }), 'q')
  t.equal(presentedKey({ params: {}, query: { key: ['a', 'b'] }, headers: { 'x-api-key': 'h' } }), 'h')
  t.equal(presentedKey({ params: {}, query: {}, headers: { 'x-api-key': ['a', 'b'] } }), undefined)
})

interface Answer { status: number, body: string }

/** A GET with the path sent byte for byte (fetch and inject would normalise `//`, `/./` and `#`). */
async function rawGet (port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

const K = READ_KEY
const E = encodeAll(K)
/** Every form that authenticates (the router or the query parser reads the key from it). */
const AUTHENTICATING = (method: string, q: string): string[] => [
  `/webapi/${K}/${method}${q === '' ? '' : `?${q}`}`,
  `/%77ebapi/${K}/${method}${q === '' ? '' : `?${q}`}`,
  `/webapi/${E}/${method}${q === '' ? '' : `?${q}`}`,
  `/${method}?${q}&key=${K}`,
  `/${method}?${q}&%6bey=${K}`,
  `/${method}?${q}&ke%79=${K}`,
  `/${method}?${q}&%6B%65%79=${K}`,
  `/${method}?${q}&key=${E}`
]
/** Forms that do not authenticate but carry the key all the same. */
const CARRYING = (method: string, q: string): string[] => [
  `//webapi/${K}/${method}?${q}`,
  `/./webapi/${K}/${method}?${q}`,
  `/webapi//${K}/${method}?${q}`,
  `/WEBAPI/${K}/${method}?${q}`,
  `/%2577ebapi/${K}/${method}?${q}`,
  `/webapi%2F${K}/${method}?${q}`,
  `/${method}?${q}&key[]=${K}`,
  `/${method}?${q};key=${K}`,
  `/${method};key=${K}?${q}`,
  `/${method}?${q}%26key=${K}`,
  `/${method}?${q}&api_key=${K}`,
  `/${method}?${q}&X-API-Key=${K}`,
  `/${method}?${q}#key=${K}`,
  `/webapi/${K}/no.such.get`,
  `/webapi/${K}/%zz`,
  `/webapi/${K}`,
  `/webapi/${K}/`,
  `/webapi//${K}`,
  `/webapi/./${K}`,
  `/docs?key=${K}`,
  `/docs/json?key=${K}`,
  `/metrics?key=${K}`,
  `/healthz?key=${K}`,
  `/nothing/here?key=${K}`
]

function capture (): { stream: Writable, lines: () => Array<Record<string, unknown>>, text: () => string } {
  let text = ''
  const stream = new Writable({ write (c, _e, cb) { text += String(c); cb() } })
  return { stream, text: () => text, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) }
}

/** The key in any spelling a request above used. */
function leaked (text: string): string[] {
  return [K, E, encodeURIComponent(K)].filter((s) => text.includes(s))
}

t.test('no key in any log line: every key form, info request logs, warn (PBX down), error (unexpected failure)', async (t) => {
  for (const pbx of ['up', 'down'] as const) {
    const log = capture()
    const gw = await startAppOnSimulator(t, {
      loggerInstance: pino(loggerOptions('info') as pino.LoggerOptions, log.stream) as unknown as FastifyBaseLogger,
      ...(pbx === 'down' ? { env: { PBX_URL: 'http://127.0.0.1:1' } } : {})
    })
    // An unexpected failure whose message quotes the URL, as a library error may.
    gw.app.get('/webapi/:key/boom.get', { onRequest: requireScope('read') }, async (req) => { throw new Error(`upstream failed for ${req.url}`) })
    gw.app.get('/boom.get', { onRequest: requireScope('read') }, async (req) => { throw new Error(`upstream failed for ${req.url}`) })
    await gw.app.listen({ port: 0, host: '127.0.0.1' })
    const port = (gw.app.server.address() as { port: number }).port

    // PBX up: pbx.calls.get answers from the call model (200). PBX down: ext.info.get needs the PBX (503, logged at warn).
    const [method, q, okStatus] = pbx === 'up' ? ['pbx.calls.get', 'x=1', 200] : ['ext.info.get', 'num=101', 503]
    const auth = AUTHENTICATING(method, q)
    for (const url of auth) t.equal((await rawGet(port, url)).status, okStatus, `${pbx}: ${url} authenticates`)
    t.equal((await rawGet(port, `/${method}?${q}`, { 'x-api-key': K })).status, okStatus, 'header form')
    let carried = 0
    for (const url of CARRYING(method, q)) {
      const r = await rawGet(port, url)
      carried++
      t.same(leaked(r.body), [], `no key in the answer to ${url}`)
    }
    t.equal(carried, 24)
    for (const url of AUTHENTICATING('boom.get', 'x=1')) t.equal((await rawGet(port, url)).status, 502, `${url}: unexpected error`)
    await gw.app.close()

    const lines = log.lines()
    const requestLines = lines.filter((l) => l.msg === 'incoming request')
    t.equal(requestLines.length, auth.length * 2 + 1 + 24, `${pbx}: every request was logged at info`)
    t.ok(requestLines.every((l) => l.level === 30))
    const errors = lines.filter((l) => l.msg === 'unexpected error')
    t.equal(errors.length, auth.length, 'error lines logged')
    t.ok(errors.every((l) => l.level === 50 && String(l.errMessage).includes('[redacted]')), 'error lines keep the URL, redacted')
    if (pbx === 'down') {
      const warns = lines.filter((l) => l.level === 40 && l.code === 'PBX_UNREACHABLE')
      t.ok(warns.length >= auth.length + 1, `PBX-down warnings logged (${warns.length})`)
      t.ok(warns.every((l) => String(l.url).includes('[redacted]') || !String(l.url).includes('key')), 'warn lines keep the URL, redacted')
    }
    t.same(leaked(log.text()), [], `${pbx}: the key appears in no log line`)
  }
})

/** Raw bytes on a socket, for requests the HTTP parser rejects; resolves when the server hangs up. */
async function rawSend (port: number, data: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data))
    socket.on('data', () => {})
    socket.on('close', () => { resolve() })
    socket.on('error', () => { resolve() })
  })
}

t.test('a request the HTTP parser rejects is logged (trace) without its raw bytes', async (t) => {
  const log = capture()
  const gw = await startAppOnSimulator(t, { loggerInstance: pino(loggerOptions('trace') as pino.LoggerOptions, log.stream) as unknown as FastifyBaseLogger, listen: true })
  const port = (gw.app.server.address() as { port: number }).port
  const big = 'a'.repeat(20_000)
  await rawSend(port, `GET /webapi/${K}/pbx.calls.get HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`)
  await rawSend(port, `GET /pbx.calls.get?key=${K} HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`)
  await rawSend(port, `GET /pbx.calls.get HTTP/1.1\r\nHost: x\r\nX-API-Key: ${K}\r\nX-Big: ${big}\r\n\r\n`)
  await gw.app.close()
  const clientErrors = log.lines().filter((l) => String(l.msg).startsWith('client '))
  t.equal(clientErrors.length, 3, 'each rejected request was logged')
  t.same(leaked(log.text()), [])
  t.notOk(log.text().includes(Buffer.from(K).join(',')), 'not even as the bytes of a Buffer')
})
