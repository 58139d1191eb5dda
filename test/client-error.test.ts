// Requests Node's HTTP parser refuses (a raw byte outside ASCII in the URL, a control character in a
// header, headers over 16 KB, no HTTP at all) get the gateway's error shape over a real socket, with a
// stable code and a sentence, on a one-PBX gateway and on the tenants front; before, Fastify answered
// `{"error":"Bad Request","message":"Client Error"}` and the tenants front a bare 400.
import t, { type Test } from 'tap'
import net from 'node:net'
import { startAppOnSimulator, READ_KEY } from './legacy/legacy-harness.js'
import { KEYS, startTwoTenants } from './tenants/two-tenants.js'

/** Raw bytes on a socket; the whole answer once the server hangs up. */
async function rawSend (port: number, data: Buffer): Promise<string> {
  return await new Promise((resolve) => {
    let got = ''
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data))
    socket.on('data', (d: Buffer) => { got += d.toString('utf8') })
    socket.on('close', () => { resolve(got) })
    socket.on('error', () => { resolve(got) })
  })
}

function cases (key: string): Array<[string, Buffer, number, string, RegExp]> {
  const req = (lines: string): Buffer => Buffer.from(lines, 'latin1')
  return [
    ['a raw é in the URL', Buffer.concat([req('GET /webapi/'), Buffer.from(key), req('/ext.state.get?num=10'), Buffer.from('é', 'utf8'), req(' HTTP/1.1\r\nHost: x\r\n\r\n')]), 400, 'BAD_REQUEST', /must be percent-encoded.*%C3%A9/],
    ['a raw space in the path', req('GET /pbx calls.get HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'BAD_REQUEST', /not valid HTTP\/1\.1/],
    ['a control character in the key header', Buffer.concat([req('GET /pbx.calls.get HTTP/1.1\r\nHost: x\r\nX-API-Key: '), Buffer.from(key), req('\x01\r\n\r\n')]), 400, 'BAD_REQUEST', /header name or value holds a character/],
    ['headers over 16 KB', req(`GET /pbx.calls.get HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'HEADERS_TOO_LARGE', /larger than 16 KB; shorten the URL .* or the headers$/],
    // The request line counts against the same limit: the sentence must not send long values to the URL.
    ['a URL over 16 KB', req(`GET /pbx.calls.get?z=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431, 'HEADERS_TOO_LARGE', /The URL and headers together are larger than 16 KB/],
    ['no HTTP at all', req('HELLO\r\n\r\n'), 400, 'BAD_REQUEST', /not valid HTTP\/1\.1/]
  ]
}

async function check (t: Test, port: number, key: string): Promise<void> {
  for (const [what, bytes, status, code, message] of cases(key)) {
    const answer = await rawSend(port, bytes)
    const [head, body] = answer.split('\r\n\r\n')
    t.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), what)
    t.match(head, /content-type: application\/json; charset=utf-8/i)
    t.match(JSON.parse(body), { result: false, error: { code, message } }, what)
    t.notMatch(answer, key, 'nothing of the request is echoed')
  }
}

t.test('one PBX: what the HTTP parser refuses is answered in the API\'s error shape', async (t) => {
  const gw = await startAppOnSimulator(t, { listen: true })
  await check(t, (gw.app.server.address() as { port: number }).port, READ_KEY)
})

t.test('the tenants front: the same answers', async (t) => {
  const x = await startTwoTenants(t)
  await check(t, Number(new URL(x.gw.url).port), KEYS.acme)
})
