// The idle timeout of a connection answering a request (src/plugins/app/socket-timeout.ts): the server
// sets none of its own (no timer per request for an answer sent from memory, issue 16), yet a
// client that stops reading a download, or a request no handler answers, is still cut off.
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import recordingRoutes from '../../routes/recordings.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { recordingUrl } from '../../src/recordings/recording-links.js'
import { READ_KEY, startAppOnSimulator, staticCalls } from '../legacy/legacy-harness.js'
import { talkingCall } from '../legacy/call-fixtures.js'
import { until } from '../pbx/pbx-fixture.js'

const TIMEOUT_MS = 300

/** The server's side of each connection, as it is accepted. */
function serverSockets (server: http.Server): net.Socket[] {
  const sockets: net.Socket[] = []
  server.on('connection', (s: net.Socket) => sockets.push(s))
  return sockets
}

/** Sends `path` on a raw connection that never reads the answer; resolves once the request is written. */
async function stalledGet (port: number, rawPath: string): Promise<net.Socket> {
  return await new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.pause() // never read: the server's writes stall once the socket buffers are full
      c.write(`GET ${rawPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, () => { resolve(c) })
    })
    c.on('error', reject)
  })
}

t.test('a download the client stops reading is cut off after the timeout', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'socket-timeout-'))
  const index = SqliteRecordingIndex.open(dir)
  t.teardown(async () => { index.close(); await rm(dir, { recursive: true, force: true }) })
  const mp3Dir = path.join(dir, 'mp3')
  const legacyId = '250301100000_7-1'
  index.addLeg({ callid: 7, chid: '250301100000_7', legacyId, dn: '101', participantIds: [3], startedAt: 0, endedAt: 1 })
  const [rec] = index.settleLeg(`${legacyId}/101`, [{ sourceRef: 'dir:a', recordedAt: 1, wavPath: null, xapiId: null }])
  // Far more than the socket buffers of both ends hold (loopback: a few MB).
  const bytes = 48 * 1024 * 1024
  await mkdir(mp3Dir, { recursive: true })
  await writeFile(path.join(mp3Dir, rec.fileName), Buffer.alloc(bytes, 0xff))
  index.markConverted(rec.id, bytes)

  const gw = await startAppOnSimulator(t, { socketTimeoutMs: TIMEOUT_MS })
  await gw.app.register(recordingRoutes, { files: { mp3Dir, index } })
  const sockets = serverSockets(gw.app.server)
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (gw.app.server.address() as { port: number }).port
  t.equal(gw.app.server.timeout, 0, 'the server itself sets no socket timeout')

  for (const link of [new URL(recordingUrl(`http://127.0.0.1:${port}`, rec.token, rec.fileName)).pathname, `/webapi/${READ_KEY}/recording/${rec.fileName}`]) {
    const before = sockets.length
    const client = await stalledGet(port, link)
    t.teardown(() => { client.destroy() })
    // Generous waits for what no test here measures (a whole run's load once kept the first byte over 5 s).
    await until(() => sockets.length > before, 15_000, 'the connection')
    const server = sockets[before]
    await until(() => server.bytesWritten > 0, 15_000, 'the download to start')
    const started = Date.now()
    await until(() => server.destroyed, 10_000, `${link}: the stalled download to be cut off`)
    t.ok(server.bytesWritten < bytes, `${link}: cut off before the whole file went out (${server.bytesWritten} of ${bytes} bytes)`)
    t.ok(Date.now() - started >= TIMEOUT_MS - 50, `${link}: not before the timeout`)
  }
})

t.test('a request that gets no answer is cut off after the timeout', async (t) => {
  const gw = await startAppOnSimulator(t, { socketTimeoutMs: TIMEOUT_MS })
  gw.app.get('/never', async () => await new Promise(() => {}))
  const sockets = serverSockets(gw.app.server)
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (gw.app.server.address() as { port: number }).port
  const client = await stalledGet(port, '/never')
  t.teardown(() => { client.destroy() })
  await until(() => sockets.length === 1 && sockets[0].destroyed, 10_000, 'the unanswered request to be cut off')
  t.pass('closed')
})

/** The timeouts set on the server's side of a connection after it was accepted. */
function recordTimeouts (server: http.Server): number[] {
  const set: number[] = []
  server.on('connection', (s: net.Socket) => {
    const original = s.setTimeout.bind(s)
    s.setTimeout = ((ms: number, cb?: () => void) => { set.push(ms); return original(ms, cb) }) as typeof s.setTimeout
  })
  return set
}

t.test('an answer sent from memory arms no timer; one through the handler does', async (t) => {
  // Long enough never to fire here (the first answer waits for the simulator).
  const timeoutMs = 20_000
  const gw = await startAppOnSimulator(t, { socketTimeoutMs: timeoutMs, calls: staticCalls([talkingCall]) })
  const set = recordTimeouts(gw.app.server)
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (gw.app.server.address() as { port: number }).port
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  const get = async (p: string, key = READ_KEY): Promise<number> => await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent, headers: { 'x-api-key': key } }, (res) => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
    }).on('error', reject)
  })
  // Any timer but the one Node sets between requests (keepAliveTimeout, 72 s, and a second more).
  const armed = (): number => set.filter((ms) => ms !== 0 && ms < 72_000).length

  t.equal(await get('/ext.state.get?num=101'), 200, 'the first answer fills the directory cache through the handler')
  t.equal(armed(), 1, 'armed while the handler answered')
  for (let i = 0; i < 3; i++) t.equal(await get('/ext.state.get?num=101'), 200)
  t.equal(await get('/pbx.ac.get'), 200)
  t.equal(await get(`/webapi/${READ_KEY}/pbx.callsinfo.get`), 200)
  t.equal(armed(), 1, 'no timer for the answers from memory')
  t.equal(await get("/ext.state.get?num=1'01"), 400, 'a request the shortcut leaves to the usual way')
  t.equal(armed(), 1, 'its answer (the schema\'s 400) was written at once from the same hook: nothing to time out')
  t.equal(await get('/ext.state.get?num=101', READ_KEY + 'x'), 401, 'a wrong key')
  t.equal(armed(), 2, 'armed: the refusal is answered later (the failed-attempt count is a promise)')
  t.equal(await get('/nowhere'), 404, 'a request no route matched')
  t.equal(armed(), 3, 'armed for an unmatched request')
})
