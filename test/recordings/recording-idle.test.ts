// RecordingService.idle(): true once every leg is announced (the drain tests and the CLI wait on it),
// looked at after each pass of the service and at stop, never on a timer of its own (it read the
// index every 50 ms before); false at its timeout, and at once when the service stops with work left.
import t from 'tap'
import path from 'node:path'
import pino from 'pino'
import { loadConfig } from '../../src/config.js'
import type { XapiApi } from '../../src/pbx/pbx-api.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { createRecordingService, type RecordingService } from '../../src/recordings/recording-service.js'
import { ChangeSignal } from '../../src/recordings/change-signal.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import { writeWav } from './wav-fixture.js'

/** A folder-source service whose poll timer never fires during a test: only its own kicks run passes. */
function service (t: { teardown: (fn: () => unknown) => void, testdir: () => string }, giveUpMs: number): { service: RecordingService<SqliteRecordingIndex>, announced: CallEvent[], recordingsDir: string, reads: () => number } {
  const root = t.testdir()
  const recordingsDir = path.join(root, '3cx')
  const config = loadConfig({
    PBX_URL: 'http://127.0.0.1:9',
    PBX_CLIENT_ID: '599',
    PBX_CLIENT_SECRET: 'unused',
    GATEWAY_KEYS: 'idle-test-key-00000000:read',
    PUBLIC_URL: 'https://gw.example.com',
    RECORDINGS_SOURCE: 'dir',
    RECORDINGS_DIR: recordingsDir,
    DATA_DIR: path.join(root, 'data'),
    FFMPEG_CONCURRENCY: '1'
  })
  const announced: CallEvent[] = []
  let reads = 0
  const s = createRecordingService({
    config,
    index: () => {
      const index = SqliteRecordingIndex.open(config.dataDir)
      const recordingsIn = index.recordingsIn.bind(index)
      index.recordingsIn = (state) => { if (state === 'pending') reads++; return recordingsIn(state) }
      return index
    },
    xapi: {} as XapiApi, // the folder source never asks XAPI
    announce: (event) => { announced.push(event) },
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    pollMs: 3_600_000,
    lookEveryMs: 0,
    timing: { settleMs: 0, giveUpMs },
    stableMs: 0
  })
  if (s === null) throw new Error('recordings are off')
  t.teardown(async () => { await s.stop(5_000); s.index.close() })
  return { service: s, announced, recordingsDir, reads: () => reads }
}

function leg (callid: number, endedAt: number, seconds: number): Parameters<RecordingService['onLegEnded']>[0] {
  const chid = `250301100000_${callid}`
  return { callid, chid, legacyId: `${chid}-1`, dn: '101', participantIds: [3], startedAt: endedAt - seconds * 1000, endedAt }
}

t.test('idle() waits for a conversion by the passes it starts, not by polling, and is true once the leg is announced', async (t) => {
  const { service: s, announced, recordingsDir, reads } = service(t, 60_000)
  // A long call: about a second of ffmpeg, time for some twenty looks of a 50 ms poll.
  const seconds = 120
  await writeWav(path.join(recordingsDir, '101', 'Tom-Smith_+15557654321_20250301100000_42.wav'), seconds)
  await s.start()
  await s.onLegEnded(leg(42, Date.now() - 1000, seconds))
  // Looks until the file is stable and seen twice alike: then the leg settles and its conversion starts.
  for (let looks = 0; s.stats().pending === 0 && looks < 10; looks++) await s.kick()
  t.equal(s.stats().pending, 1, `converting (${JSON.stringify(s.stats())})`)
  const before = reads()
  const started = Date.now()
  t.ok(await s.idle(30_000), 'idle')
  const ms = Date.now() - started
  t.equal(announced.length, 1, 'the recording event is queued when idle() says so')
  t.ok(ms >= 200, `the conversion took a while (${ms} ms)`)
  // One look at the start and one after each of the (at most three) passes the conversion's end runs.
  t.ok(reads() - before <= 4, `the index was read ${reads() - before} times in ${ms} ms`)
})

t.test('idle() is false at its timeout with a leg still waiting, and at once when the service stops', async (t) => {
  const { service: s } = service(t, 3_600_000)
  await s.start()
  await s.onLegEnded(leg(43, Date.now(), 10)) // no file will come: it waits for an hour
  let started = Date.now()
  t.equal(await s.idle(150), false, 'not idle')
  t.ok(Date.now() - started >= 140, 'after its timeout')
  started = Date.now()
  const waiting = s.idle(30_000)
  await s.stop(1_000)
  t.equal(await waiting, false, 'stopped with a leg waiting')
  t.ok(Date.now() - started < 5_000, `answered at the stop (${Date.now() - started} ms), not at the timeout`)
})

t.test('ChangeSignal: looks again on each notify, one last time at the timeout', async (t) => {
  const signal = new ChangeSignal()
  let value = false
  let looks = 0
  const holds = async (): Promise<boolean> => { looks++; return value }
  const waiting = signal.until(holds, 30_000)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(looks, 1, 'looked once')
  signal.notify()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(looks, 2, 'and again on the change')
  value = true
  signal.notify()
  t.equal(await waiting, true)
  t.equal(await signal.until(async () => false, 0), false, 'no time: false')
  t.equal(await signal.until(async () => false, 30_000, () => true), false, 'over: false at once')
})
