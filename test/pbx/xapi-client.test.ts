import t from 'tap'
import { clientsFor, closedPortUrl, localServer, startCall, startSim, until } from './pbx-fixture.js'
import { eq, functionCall, keyPath, queryString } from '../../src/pbx/odata.js'
import type { PbxObservation } from '../../src/pbx/pbx-http.js'
import { PbxError } from '../../src/pbx/pbx-api.js'

const xapiRequests = (log: Array<{ url: string, method: string, status: number }>, prefix: string): Array<{ method: string, status: number }> =>
  log.filter((r) => r.url.startsWith(`/xapi/v1/${prefix}`))

t.test("OData values reach the PBX quoted and encoded once (O'Brien)", async (t) => {
  const sim = await startSim(t)
  const { xapi } = clientsFor(t, sim.url)
  await xapi.list('Users', { query: { filter: eq('LastName', "O'Brien"), select: ['Id', 'Number'] } }).catch(() => null)
  await xapi.get(keyPath('Users', { Number: "O'Brien" })).catch(() => null)
  const urls = sim.ctx.requestLog.map((r) => r.url)
  t.ok(urls.includes("/xapi/v1/Users?$filter=LastName%20eq%20'O''Brien'&$select=Id%2CNumber"), urls.join('\n'))
  t.ok(urls.includes("/xapi/v1/Users(Number='O''Brien')"), urls.join('\n'))
  // What the PBX decodes is the OData literal with the doubled quote.
  t.equal(decodeURIComponent(queryString({ filter: eq('LastName', "O'Brien") })), "?$filter=LastName eq 'O''Brien'")
})

t.test('GETs are retried on 502/503/504, never on 500, and POST actions never', async (t) => {
  const sim = await startSim(t)
  const { xapi, tokens } = clientsFor(t, sim.url)
  await tokens.getToken()
  sim.ctx.faults.apply({ xapiErrorRate: 1 })
  for (let i = 0; i < 6; i++) {
    sim.ctx.requestLog.length = 0
    const err = await xapi.get('SystemStatus').catch((e: unknown) => e) as PbxError
    t.ok(err instanceof PbxError)
    const statuses = xapiRequests(sim.ctx.requestLog, 'SystemStatus').map((r) => r.status)
    t.ok(statuses.length >= 1 && statuses.length <= 3, `1 to 3 tries (${statuses.join(',')})`)
    t.ok(statuses.slice(0, -1).every((s) => s === 503 || s === 504), 'only 503/504 led to a retry')
    if (statuses.length < 3) t.equal(statuses.at(-1), 500, 'stopped early only on a 500')
    t.equal(err.pbxStatus, statuses.at(-1))
  }
  sim.ctx.requestLog.length = 0
  for (let i = 0; i < 6; i++) {
    await t.rejects(xapi.post('Users/Pbx.MakeCall', { dn: '101', destination: '102' }), PbxError)
  }
  t.equal(xapiRequests(sim.ctx.requestLog, 'Users/Pbx.MakeCall').length, 6, 'one request per MakeCall, whatever the status')
})

t.test('a PBX that is down: PBX_UNREACHABLE 503 after the retries', async (t) => {
  const sim = await startSim(t)
  const { xapi, tokens } = clientsFor(t, sim.url)
  await tokens.getToken()
  sim.ctx.faults.apply({ down: true })
  const err = await xapi.get('SystemStatus').catch((e: unknown) => e) as PbxError
  t.match(err, { code: 'PBX_UNREACHABLE', status: 503 })
  t.match(err.message, /cannot reach the PBX at 127\.0\.0\.1:\d+/)
})

t.test('nothing listening: PBX_UNREACHABLE saying connection refused', async (t) => {
  const { xapi } = clientsFor(t, await closedPortUrl())
  await t.rejects(xapi.get('SystemStatus'), { code: 'PBX_UNREACHABLE', status: 503, message: /refused/ })
})

t.test('a slow PBX: PBX_TIMEOUT 504 after the per-request timeout', async (t) => {
  const sim = await startSim(t)
  // 400 ms: the token fetch before the fault must fit in it on a loaded CI (150 ms did not).
  const { xapi, tokens } = clientsFor(t, sim.url, { timeoutMs: 400 })
  await tokens.getToken()
  sim.ctx.faults.apply({ latencyMs: 3000 })
  const started = Date.now()
  await t.rejects(xapi.get('SystemStatus'), { code: 'PBX_TIMEOUT', status: 504, message: /400 ms/ })
  t.ok(Date.now() - started < 790, 'timeouts are not retried (less than two timeouts)')
  await t.rejects(xapi.get('SystemStatus', { timeoutMs: 100 }), { code: 'PBX_TIMEOUT', message: /100 ms/ })
})

t.test('a caller abort stops the request with the caller\'s reason', async (t) => {
  const sim = await startSim(t)
  const { xapi, tokens } = clientsFor(t, sim.url)
  await tokens.getToken()
  sim.ctx.faults.apply({ latencyMs: 500 })
  const ac = new AbortController()
  // The caller goes away while the PBX is still working on the request.
  sim.app.server.once('request', () => { ac.abort(new Error('client went away')) })
  await t.rejects(xapi.get('SystemStatus', { signal: ac.signal }), { message: 'client went away' })
})

t.test('observe gets one low-cardinality record per request', async (t) => {
  const sim = await startSim(t)
  const seen: PbxObservation[] = []
  const { xapi } = clientsFor(t, sim.url, {}, { observe: (o) => seen.push(o) })
  await xapi.get(`${keyPath('Users', { Number: '101' })}/ForwardingProfiles`).catch(() => null)
  t.same(seen.map((o) => [o.api, o.method, o.route]), [['token', 'POST', 'connect/token'], ['xapi', 'GET', 'Users({key})/ForwardingProfiles']])
  t.ok(seen.every((o) => typeof o.status === 'number' && o.durationMs >= 0))
  t.notOk(JSON.stringify(seen).includes('sim-secret'))
})

t.test('unknown entity sets: PBX_NOT_FOUND 404', async (t) => {
  const sim = await startSim(t)
  const { xapi } = clientsFor(t, sim.url)
  await t.rejects(xapi.list('NoSuchSet'), { code: 'PBX_NOT_FOUND', status: 404 })
})

t.test('download streams the body with its type, length and file name', async (t) => {
  const audio = Buffer.alloc(50_000, 7)
  let auth = ''
  const { url } = await localServer(t, (req, res) => {
    if (req.url === '/connect/token') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'tok' }))
      return
    }
    auth = req.headers.authorization ?? ''
    res.setHeader('content-type', 'audio/x-wav')
    res.setHeader('content-length', String(audio.length))
    res.setHeader('content-disposition', 'attachment; filename="../../101_Ann_20250101.wav"')
    res.end(audio)
  })
  const { xapi } = clientsFor(t, url)
  const dl = await xapi.download('Recordings/Pbx.DownloadRecording(recId=5)')
  const chunks: Buffer[] = []
  for await (const c of dl.body) chunks.push(c as Buffer)
  t.same([dl.contentType, dl.contentLength, dl.fileName], ['audio/x-wav', audio.length, '101_Ann_20250101.wav'])
  t.ok(Buffer.concat(chunks).equals(audio))
  t.equal(auth, 'Bearer tok')
})

t.test('list reads value and @odata.count; PATCH accepts 204', async (t) => {
  const { url } = await localServer(t, (req, res) => {
    if (req.url === '/connect/token') { res.end(JSON.stringify({ access_token: 'tok', expires_in: 3600 })); return }
    if (req.method === 'PATCH') { res.statusCode = 204; res.end(); return }
    if (req.url?.startsWith('/xapi/v1/Broken')) { res.end('{"nope":1}'); return }
    res.end(JSON.stringify({ '@odata.count': 7, value: [{ Id: 1 }] }))
  })
  const { xapi } = clientsFor(t, url)
  t.same(await xapi.list('Users?$count=true', { query: { top: 1 } }), { value: [{ Id: 1 }], count: 7 })
  t.equal(await xapi.patch('Users(1)', { Enabled: false }), undefined)
  await t.rejects(xapi.list('Broken'), { code: 'PBX_ERROR', message: /"value"/ })
})

t.test('reads real entities from the simulator: single objects, lists with counts, recordings as audio', async (t) => {
  const sim = await startSim(t)
  const { xapi } = clientsFor(t, sim.url)
  const status = await xapi.get<{ Version: string }>('SystemStatus')
  t.match(status.Version, /^20\./)
  const users = await xapi.list<{ Number: string }>('Users', { query: { select: ['Number'], orderby: ['Number'], top: 2, count: true } })
  t.same(users.value.map((u) => u.Number), ['100', '101'])
  t.equal(users.count, 20)
  const obrien = await xapi.list<{ Number: string, LastName: string }>('Users', { query: { filter: eq('LastName', "O'Brien") } })
  t.same(obrien.value.map((u) => u.LastName), ["O'Brien"], 'the quoted filter finds exactly O\'Brien')
  t.equal((await xapi.get<{ Number: string }>(keyPath('Users', { Number: '101' }))).Number, '101')

  await startCall(sim, { from: '+15557654321', to: '+15550102', answer: '102', ringMs: 50, talkMs: 300, record: true })
  let recId: number | undefined
  await until(async () => {
    recId = (await xapi.list<{ Id: number }>('Recordings', { query: { top: 1 } })).value[0]?.Id
    return recId !== undefined
  }, 8000, 'a recording is listed')
  const dl = await xapi.download(`Recordings/${functionCall('Pbx.DownloadRecording', { recId: recId ?? 0 })}`)
  const chunks: Buffer[] = []
  for await (const c of dl.body) chunks.push(c as Buffer)
  const wav = Buffer.concat(chunks)
  t.match(dl.contentType, /audio/)
  t.equal(wav.subarray(0, 4).toString('ascii'), 'RIFF')
  if (dl.contentLength !== null) t.equal(wav.length, dl.contentLength)
  await t.rejects(xapi.download(`Recordings/${functionCall('Pbx.DownloadRecording', { recId: 999_999 })}`), PbxError)
})
