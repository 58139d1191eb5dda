// Never lost data: a conversion that fails because MP3_DIR cannot be written (a regular file where
// the directory should be: fails for root too) is tried again with back-off; once MP3_DIR is fixed
// it converts and the leg is announced once. A conversion that failed for good is tried again at the
// next start.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { startPipeline } from './pipeline-harness.js'
import { until } from '../webhooks/helpers.js'
import { createRecordingService } from '../../src/recordings/recording-service.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { PBX } from '../sim/pbx-under-test.js'

const DIRECT_LINE = PBX.n('+15550102')
const DIRECT = PBX.n('102')

function brokenMp3Dir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-mp3-broken-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const mp3Dir = path.join(dir, 'mp3')
  writeFileSync(mp3Dir, 'not a directory')
  return mp3Dir
}

// The cases are independent (a simulator and pipeline each) and mostly wait for their calls: run at once.
t.jobs = 2

t.test('MP3_DIR unwritable: the conversion is retried, and once fixed converts and is announced once', { buffered: true }, async (t) => {
  const mp3Dir = brokenMp3Dir(t)
  const p = await startPipeline(t, { source: 'dir', env: { MP3_DIR: mp3Dir }, convertRetryMs: Array(100).fill(200) })
  const callid = await p.call({ from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 200, talkMs: 1000, record: true, hangup: 'caller' })
  const ended = await p.ended(callid, DIRECT)
  await until(() => p.service.retries >= 2, 20_000)
  t.equal(p.announced.length, 0, 'nothing announced while MP3_DIR is broken')
  t.equal(p.service.stats().failed, 0, 'not marked failed while retrying')
  rmSync(mp3Dir) // the operator fixes it: the service creates the directory again
  const rec = await p.recording(ended.id)
  t.equal(rec.FILES.length, 1)
  t.ok(existsSync(path.join(mp3Dir, `${ended.id}-1.mp3`)), 'the MP3 is in MP3_DIR')
  await p.service.idle(5_000)
  t.equal(p.announced.length, 1, 'announced once')
})

t.test('a conversion that failed for good is tried again at the next start and announced once', { buffered: true }, async (t) => {
  const mp3Dir = brokenMp3Dir(t)
  const p = await startPipeline(t, { source: 'dir', env: { MP3_DIR: mp3Dir }, convertRetryMs: [100] })
  const callid = await p.call({ from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 200, talkMs: 1000, record: true, hangup: 'caller' })
  const ended = await p.ended(callid, DIRECT)
  const legKey = `${ended.id}/${ended.user}`
  await until(() => p.service.index.leg(legKey)?.state === 'failed', 20_000)
  t.equal(p.service.retries, 1, 'tried twice, then marked failed')
  t.equal(p.announced.length, 0)
  await p.service.stop(5_000)
  rmSync(mp3Dir)
  const announced: string[] = []
  const again = createRecordingService({
    config: p.config,
    index: () => SqliteRecordingIndex.open(p.config.dataDir),
    xapi: p.clients.xapi,
    announce: (event) => { announced.push(String(event.payload.id)) },
    log: pino({ level: 'silent' }),
    pollMs: 100
  })
  if (again === null) throw new Error('recordings are off')
  t.teardown(async () => { await again.stop(5_000); again.index.close() })
  await again.start()
  await until(() => announced.length > 0, 20_000)
  await again.idle(5_000)
  t.same(announced, [ended.id], 'announced once after the restart')
  t.equal(again.index.leg(legKey)?.state, 'announced')
})
