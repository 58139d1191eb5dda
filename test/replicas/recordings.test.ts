// Recordings with two replicas on one PostgreSQL database and one shared MP3_DIR, against the
// simulator: every recording is converted once (claimed by one replica), the `recording` webhook is
// sent once, its links are served by both replicas, and retention deletes each recording once, after
// which both replicas answer the same 404.
import t from 'tap'
import { Writable } from 'node:stream'
import { readdir } from 'node:fs/promises'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { runRetention } from '../../src/recordings/retention.js'
import { startReceiver } from '../webhooks/receiver.js'
import { until } from '../webhooks/helpers.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { pbxEnv, startSim } from '../pbx/pbx-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'
import { FAST_SIM_TIMING } from '../sim/fast-timing.js'

const KEY = 'replica-recordings-test-key-0123456789'

/** A log stream keeping the messages of one replica (JSON lines). */
function logOf (): { stream: Writable, messages: Array<{ msg: string, file?: string }> } {
  const messages: Array<{ msg: string, file?: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _e, cb) {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('{')) messages.push(JSON.parse(line) as { msg: string, file?: string })
      cb()
    }
  })
  return { stream, messages }
}

async function download (url: string): Promise<{ status: number, body: Buffer, type: string | null }> {
  const r = await fetch(url)
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type') }
}

t.test('two replicas: each recording converted once, announced once, its links served by both; deleted once, 404 on both', async (t) => {
  const url = await testDatabase(t)
  const sim = await startSim(t, { timing: FAST_SIM_TIMING }) // WAVs 20-100 ms after the call
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dirs = t.testdir({ a: {}, b: {}, mp3: {} })
  const env = {
    ...pbxEnv(sim.url), GATEWAY_KEYS: KEY, PORT: '0', LOG_FORMAT: 'json',
    CALL_END_GRACE_MS: '100', DATABASE_URL: url, WEBHOOK_URLS: receiver.url, WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms',
    RECORDINGS_SOURCE: 'xapi', RECORDINGS_SETTLE_MS: '300', MP3_DIR: dirs + '/mp3', FFMPEG_CONCURRENCY: '1'
  }
  const lease = { leaseMs: 1000, renewMs: 200 }
  const logA = logOf()
  const logB = logOf()
  const a = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/a' }), { logStream: logA.stream, lease: { ...lease, replica: 'replica-a' } })
  t.teardown(() => a.close())
  await a.services.pbx.callControl.ready()
  const b = await startGateway(loadConfig({ ...env, DATA_DIR: dirs + '/b' }), { logStream: logB.stream, lease: { ...lease, replica: 'replica-b' } })
  t.teardown(() => b.close())
  t.equal(b.services.stream().role, 'standby')

  // Three files, two conversions at a time per replica (FFMPEG_CONCURRENCY=1): both may claim some.
  const placed = await fetch(`${sim.url}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to: PBX.n('+15550101'), answer: PBX.n('101'), ringMs: 200, talkMs: 3000, record: true, recordingSegments: 3, hangup: 'caller' })
  })
  t.equal(placed.status, 201)
  const recordingEvents = (): Array<{ id: string, FILES: string[] }> => receiver.received
    .map((r) => JSON.parse(r.body) as { event: string, id: string, FILES: string[] }).filter((p) => p.event === 'recording')
  await until(() => recordingEvents().length >= 1, 40_000)
  // Both replicas keep polling the shared index and the outbox: give a second announcement every chance to appear.
  await until(() => a.services.outbox.depthTotal() === 0 && b.services.outbox.depthTotal() === 0, 10_000)
  await b.services.recordings?.kick()
  await a.services.recordings?.kick()
  const [event] = recordingEvents()
  t.equal(recordingEvents().length, 1, 'one recording webhook')
  t.equal(event.FILES.length, 3)

  const converted = [...logA.messages, ...logB.messages].filter((m) => m.msg === 'recordings: converted to MP3').map((m) => m.file).sort()
  t.same(converted, event.FILES.map((f) => f.slice(f.lastIndexOf('/') + 1)).sort(), 'each file converted once, across both replicas')
  t.comment(`conversions: replica-a ${logA.messages.filter((m) => m.msg === 'recordings: converted to MP3').length}, replica-b ${logB.messages.filter((m) => m.msg === 'recordings: converted to MP3').length}`)
  t.equal((await readdir(dirs + '/mp3')).filter((f) => f.endsWith('.mp3')).length, 3, 'three MP3s in the shared MP3_DIR')

  // The link names replica A (no PUBLIC_URL); the same path on replica B serves the same bytes.
  for (const link of event.FILES) {
    const path = new URL(link).pathname
    const [onA, onB] = await Promise.all([download(`${a.url}${path}`), download(`${b.url}${path}`)])
    t.equal(onA.status, 200)
    t.equal(onB.status, 200, `replica B serves ${path}`)
    t.equal(onB.type, 'audio/mpeg')
    t.ok(onA.body.length > 0 && onA.body.equals(onB.body), 'the same MP3 from both')
  }

  // Retention on both replicas (as if 31 days later): each recording deleted once; then 404 on both.
  const later = { retentionDays: 30, now: Date.now() + 31 * 86_400_000, inUse: () => false }
  const mp3Dir = dirs + '/mp3'
  const indexA = a.services.recordings?.index
  const indexB = b.services.recordings?.index
  if (indexA === undefined || indexB === undefined) throw new Error('recordings are off')
  const [ra, rb] = await Promise.all([runRetention(indexA, mp3Dir, later), runRetention(indexB, mp3Dir, later)])
  t.equal(ra.deletedFiles + rb.deletedFiles, 3, 'three files deleted in all')
  t.equal(ra.freedBytes + rb.freedBytes > 0, true)
  t.same((await readdir(mp3Dir)).filter((f) => f.endsWith('.mp3')), [])
  for (const link of event.FILES) {
    const path = new URL(link).pathname
    const [onA, onB] = await Promise.all([fetch(`${a.url}${path}`), fetch(`${b.url}${path}`)])
    t.equal(onA.status, 404)
    t.equal(onB.status, 404)
    t.same(await onB.json(), await onA.json(), 'the same answer on both replicas')
  }
})
