// Conversions claimed across replicas (the recordings service over the PostgreSQL index, real ffmpeg,
// folder source): a replica that stops gives back what it has not converted, and another replica
// converts it at once rather than after the claim's lease; a replica that died (its claim runs out)
// loses nothing: another converts and announces it, once.
import t from 'tap'
import { Writable } from 'node:stream'
import path from 'node:path'
import { mkdir, writeFile } from 'node:fs/promises'
import pino from 'pino'
import { loadConfig } from '../../src/config.js'
import type { XapiApi } from '../../src/pbx/pbx-api.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import { createRecordingService, type RecordingService } from '../../src/recordings/recording-service.js'
import { legKeyOf, type EndedLeg } from '../../src/recordings/recording-index.js'
import { createPgStore } from '../../src/store/pg/pg-pool.js'
import { migratePg } from '../../src/store/pg/pg-migrations.js'
import { PgRecordingIndex } from '../../src/store/pg/pg-recording-index.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { tempDir, wavBytes, writeWav } from '../recordings/wav-fixture.js'
import { until } from '../webhooks/helpers.js'

interface Replica { service: RecordingService<PgRecordingIndex>, converted: string[], announced: CallEvent[] }

t.test('a stopping replica gives its claims back; a dead replica\'s claim runs out; each file converted and announced once', async (t) => {
  const url = await testDatabase(t)
  const root = await tempDir(t, 'rec-claims-')
  const recordingsDir = path.join(root, '3cx')
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  // Long files: the first is still in ffmpeg, the second queued, when the first replica stops.
  const long = wavBytes(900)
  await mkdir(path.join(recordingsDir, '101'), { recursive: true })
  for (const n of [1, 2]) await writeFile(path.join(recordingsDir, '101', `Tom-Smith_+15557654321_${stamp}_4${n}.wav`), long)
  // The legs end now, after the files are written (a leg whose files do not show within giveUpMs is unrecorded).
  const now = Date.now()
  const leg = (callid: number): EndedLeg => ({ callid, chid: `c${callid}`, legacyId: `250301100000_${callid}-1`, dn: '101', participantIds: [3], startedAt: now - 900_000, endedAt: now - 1000 })

  function replica (name: string, opts: { looks: boolean, claimMs: number }): Replica {
    const store = createPgStore(url)
    t.teardown(store.close)
    const converted: string[] = []
    const announced: CallEvent[] = []
    const logs = new Writable({
      write (chunk: Buffer, _e, cb) {
        const m = JSON.parse(chunk.toString()) as { msg: string, file?: string }
        if (m.msg === 'recordings: converted to MP3' && m.file !== undefined) converted.push(m.file)
        cb()
      }
    })
    const config = loadConfig({
      PBX_URL: 'http://127.0.0.1:9', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'unused', GATEWAY_KEYS: 'claims-test-key-000000:read',
      RECORDINGS_SOURCE: 'dir', RECORDINGS_DIR: recordingsDir, DATA_DIR: path.join(root, name), MP3_DIR: path.join(root, 'mp3'), FFMPEG_CONCURRENCY: '1'
    })
    const service = createRecordingService({
      config,
      index: () => new PgRecordingIndex(store, name),
      xapi: {} as XapiApi, // the folder source never asks XAPI
      announce: (event) => { announced.push(event) },
      log: pino({ level: 'info' }, logs),
      pollMs: 50,
      lookEveryMs: 50,
      timing: { settleMs: 0, giveUpMs: 60_000 },
      stableMs: 100,
      looks: () => opts.looks,
      claimMs: opts.claimMs
    })
    if (service === null) throw new Error('recordings off')
    t.teardown(async () => { await service.stop(1000) })
    return { service, converted, announced }
  }
  const admin = createPgStore(url)
  t.teardown(admin.close)
  await migratePg(admin.pool, admin.name)
  const claims = async (): Promise<Array<{ by: string | null, held: boolean }>> => (await admin.pool.query<{ by: string | null, held: boolean }>(
    "SELECT claimed_by AS by, COALESCE(claimed_until > now(), false) AS held FROM recordings WHERE state = 'pending' ORDER BY id")).rows

  // Replica A (the stream holder) finds the leg's two files and claims both; its lease is far longer than the test.
  const a = replica('replica-a', { looks: true, claimMs: 600_000 })
  await a.service.start()
  await a.service.onLegEnded(leg(41))
  await a.service.onLegEnded(leg(42))
  let seen: Array<{ by: string | null, held: boolean }> = []
  const polled = Date.now()
  while (Date.now() - polled < 60_000 && (seen = await claims()).filter((c) => c.by === 'replica-a' && c.held).length < 2) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(seen, [{ by: 'replica-a', held: true }, { by: 'replica-a', held: true }], 'replica A claimed both conversions')
  const stopped = Date.now()
  await a.service.stop(100)
  t.same((await claims()).map((c) => c.held), [false, false], 'stopped: both given back unconverted, not held until the lease ends')

  // Replica B (a standby: it does not look for files) converts them at once.
  const b = replica('replica-b', { looks: false, claimMs: 30_000 })
  await b.service.start()
  await until(() => b.announced.length === 2, 120_000)
  t.comment(`replica B converted and announced both ${Date.now() - stopped} ms after replica A stopped (A's lease: 600 s)`)
  t.same([...a.converted, ...b.converted].sort(), ['250301100000_41-1-1.mp3', '250301100000_42-1-1.mp3'], 'each file converted once')
  t.ok(b.converted.length >= 1, `replica B converted what A had not (A ${a.converted.length}, B ${b.converted.length}) without waiting for A's 10-minute lease`)
  t.same(a.announced, [], 'replica A announced nothing')

  // A replica that died with a claim: nobody converts it until the claim runs out, then a replica does, once.
  // B stops first and C starts after the claim: a running replica (polling every 50 ms) could otherwise
  // take the leg between the dead one's settle and its claim.
  await b.service.stop(1000)
  const dead = new PgRecordingIndex(admin, 'replica-dead')
  await writeWav(path.join(recordingsDir, '101', `Tom-Smith_+15557654321_${stamp}_43.wav`), 2)
  await dead.addLeg(leg(43))
  await dead.settleLeg(legKeyOf(leg(43)), [{ sourceRef: 'dir:43', recordedAt: now, wavPath: path.join(recordingsDir, '101', `Tom-Smith_+15557654321_${stamp}_43.wav`), xapiId: null }])
  t.equal((await dead.claimPending(10, 1500)).length, 1, 'the dead replica held a claim')
  const died = Date.now()
  const c = replica('replica-c', { looks: false, claimMs: 30_000 })
  await c.service.start()
  t.same((await claims()).map((r) => r.by), ['replica-dead'], 'the running replica leaves a held claim alone')
  await until(() => c.announced.length === 1, 60_000)
  const waited = Date.now() - died
  t.comment(`the dead replica's claim (1.5 s) taken over and announced after ${waited} ms`)
  t.ok(waited >= 1400, 'not before the claim ran out')
  t.same(c.converted, ['250301100000_43-1-1.mp3'], 'taken over once the claim ran out')
  await c.service.kick()
  t.same([b.announced.length, c.announced.length], [2, 1], 'each leg announced once')
})
