import t from 'tap'
import http from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import recordingRoutes from '../../routes/recordings.js'
import { FfmpegPool, resolveFfmpegPath } from '../../src/recordings/ffmpeg-pool.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { newRecordingToken, recordingUrl } from '../../src/recordings/recording-links.js'
import { startAppOnSimulator, READ_KEY } from '../legacy/legacy-harness.js'
import { writeWav } from './wav-fixture.js'

/** A raw GET over a real socket: the path goes out exactly as written (no client-side normalisation). */
async function get (port: number, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('serving MP3s by token and by the legacy path', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rec-route-'))
  const index = SqliteRecordingIndex.open(dir)
  t.teardown(async () => { index.close(); await rm(dir, { recursive: true, force: true }) })
  const mp3Dir = path.join(dir, 'mp3')
  const legacyId = '250301100000_7-1'
  index.addLeg({ callid: 7, chid: '250301100000_7', legacyId, dn: '101', participantIds: [3], startedAt: 0, endedAt: 1 })
  const [rec, pending] = index.settleLeg(`${legacyId}/101`, [
    { sourceRef: 'dir:a', recordedAt: 1, wavPath: null, xapiId: null },
    { sourceRef: 'dir:b', recordedAt: 2, wavPath: null, xapiId: null }
  ])
  const pool = new FfmpegPool({ ffmpegPath: resolveFfmpegPath(''), concurrency: 1, bitrateKbps: 32 })
  const { bytes } = await pool.convert(await writeWav(path.join(dir, 'a.wav'), 2), path.join(mp3Dir, rec.fileName))
  index.markConverted(rec.id, bytes)

  const gw = await startAppOnSimulator(t)
  await gw.app.register(recordingRoutes, { files: { mp3Dir, index } })
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (gw.app.server.address() as { port: number }).port
  const link = new URL(recordingUrl(`http://127.0.0.1:${port}`, rec.token, rec.fileName)).pathname

  const full = await get(port, link)
  t.equal(full.status, 200)
  t.equal(full.headers['content-type'], 'audio/mpeg')
  t.equal(full.body.length, bytes)
  t.equal(full.headers['accept-ranges'], 'bytes')
  const etag = full.headers.etag as string
  t.ok(etag, 'has an ETag')
  t.equal(full.body.subarray(0, 3).toString('latin1') === 'ID3' || (full.body[0] === 0xff && (full.body[1] & 0xe0) === 0xe0), true, 'MP3 bytes')

  const part = await get(port, link, { range: 'bytes=100-199' })
  t.equal(part.status, 206)
  t.equal(part.headers['content-range'], `bytes 100-199/${bytes}`)
  t.same(part.body, full.body.subarray(100, 200))

  t.equal((await get(port, link, { 'if-none-match': etag })).status, 304)

  const tampered = rec.token.slice(0, -1) + (rec.token.endsWith('A') ? 'B' : 'A')
  const notFound = await get(port, `/recordings/${tampered}/${rec.fileName}`)
  t.equal(notFound.status, 404, 'tampered token')
  t.match(JSON.parse(notFound.body.toString()), { result: false, error: { code: 'RECORDING_NOT_FOUND' } })
  t.equal((await get(port, `/recordings/${newRecordingToken()}/${rec.fileName}`)).status, 404, 'random token')
  t.equal((await get(port, `/recordings/${pending.token}/${rec.fileName}`)).status, 404, 'another recording\'s token')
  t.equal((await get(port, `/recordings/${pending.token}/${pending.fileName}`)).status, 404, 'not converted yet')
  // Converted by the index's word but not in this MP3_DIR (a replica whose MP3_DIR is not the shared one): the same 404.
  index.markConverted(pending.id, 10)
  for (const missing of [`/recordings/${pending.token}/${pending.fileName}`, `/webapi/${READ_KEY}/recording/${pending.fileName}`]) {
    const r = await get(port, missing)
    t.equal(r.status, 404, missing)
    t.match(JSON.parse(r.body.toString()), { result: false, error: { code: 'RECORDING_NOT_FOUND' } }, 'the recording\'s own 404, not "nothing here"')
  }

  for (const attack of [
    `/recordings/${rec.token}/..%2Frecordings.db`,
    `/recordings/${rec.token}/..%2F..%2F..%2Fetc%2Fpasswd`,
    `/recordings/${rec.token}/%2e%2e%2frecordings.db`,
    `/recordings/${rec.token}/../recordings.db`,
    '/recordings/../../etc/passwd',
    `/recordings/..%2F/${rec.fileName}`,
    `/recordings/${rec.token}/${rec.fileName}%00.db`,
    `/recordings/${rec.token}/`,
    '/recordings/',
    `/webapi/${READ_KEY}/recording/..%2Frecordings.db`,
    `/webapi/${READ_KEY}/recording/..%2F..%2Fetc%2Fpasswd`
  ]) {
    const r = await get(port, attack)
    t.equal(r.status, 404, attack)
    t.notMatch(r.body.toString('latin1'), /SQLite|root:/, 'nothing leaked')
  }

  const legacy = await get(port, `/webapi/${READ_KEY}/recording/${rec.fileName}`)
  t.equal(legacy.status, 200)
  t.same(legacy.body, full.body)
  const noKey = await get(port, `/webapi/wrong-key-000000000/recording/${rec.fileName}`)
  t.equal(noKey.status, 401)
  t.match(JSON.parse(noKey.body.toString()), { error: { code: 'UNAUTHORIZED' } })
})
