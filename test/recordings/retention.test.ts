import t from 'tap'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { legKeyOf, type EndedLeg } from '../../src/recordings/recording-index.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { runRetention } from '../../src/recordings/retention.js'

const DAY = 86_400_000
const NOW = Date.parse('2025-06-30T12:00:00Z')

function leg (n: number, endedAt: number): EndedLeg {
  return { callid: n, chid: `250101000000_${n}`, legacyId: `250101000000_${n}-1`, dn: '101', participantIds: [n], startedAt: endedAt - 60_000, endedAt }
}

async function setup (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ index: SqliteRecordingIndex, mp3Dir: string, dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'retention-'))
  const index = SqliteRecordingIndex.open(dir)
  t.teardown(async () => { index.close(); await rm(dir, { recursive: true, force: true }) })
  const mp3Dir = path.join(dir, 'mp3')
  await mkdir(mp3Dir)
  return { index, mp3Dir, dir }
}

/** A converted recording of `ageDays`, file dated accordingly; announced `announcedAgo` ms before NOW. */
async function converted (index: SqliteRecordingIndex, mp3Dir: string, n: number, ageDays: number, announcedAgo: number | null): Promise<string> {
  const at = NOW - ageDays * DAY
  const l = leg(n, at)
  index.addLeg(l, at)
  const [rec] = index.settleLeg(legKeyOf(l), [{ sourceRef: `dir:/r/${n}.wav`, recordedAt: at, wavPath: `/r/${n}.wav`, xapiId: null }])
  index.markConverted(rec.id, 1000, at)
  if (announcedAgo !== null) index.setLegState(rec.legKey, 'announced', NOW - announcedAgo)
  const file = path.join(mp3Dir, rec.fileName)
  await writeFile(file, Buffer.alloc(1000))
  await utimes(file, new Date(at), new Date(at))
  return rec.fileName
}

t.test('old recordings go, young ones and still-linked ones stay', async (t) => {
  const { index, mp3Dir } = await setup(t)
  const old = await converted(index, mp3Dir, 1, 40, 40 * DAY)
  const young = await converted(index, mp3Dir, 2, 5, 5 * DAY)
  const linked = await converted(index, mp3Dir, 3, 45, 40 * DAY)

  const r = await runRetention(index, mp3Dir, { retentionDays: 30, now: NOW, inUse: (f) => f === linked })
  t.same(r, { deletedFiles: 1, freedBytes: 1000, deletedRows: 2, keptInUse: 1 }, 'one file and its row and leg')
  t.same((await readdir(mp3Dir)).sort(), [young, linked].sort())
  t.equal(index.byFileName(old), undefined)
  t.ok(index.byFileName(young))

  const again = await runRetention(index, mp3Dir, { retentionDays: 30, now: NOW })
  t.equal(again.deletedFiles, 1, 'without the hook, a long-announced file goes')
  t.same(await readdir(mp3Dir), [young])
})

t.test('without the outbox hook: kept while its event may still be retried', async (t) => {
  const { index, mp3Dir } = await setup(t)
  await converted(index, mp3Dir, 1, 3, 3_600_000)
  const r = await runRetention(index, mp3Dir, { retentionDays: 1, now: NOW, maxEventAgeMs: 72 * 3_600_000 })
  t.equal(r.keptInUse, 1)
  t.equal(r.deletedFiles, 0)
})

t.test('stray and partial files, failed WAVs', async (t) => {
  const { index, mp3Dir, dir } = await setup(t)
  const old = new Date(NOW - 60 * DAY)
  const hourAgo = new Date(NOW - 2 * 3_600_000)
  const stray = path.join(mp3Dir, '250101000000_9-1-1.mp3')
  const youngStray = path.join(mp3Dir, '250101000000_9-1-2.mp3')
  const partial = path.join(mp3Dir, '.250101000000_9-1-3.mp3.abcd.partial')
  const foreign = path.join(mp3Dir, 'README.txt')
  const failedDir = path.join(dir, 'failed')
  await mkdir(failedDir)
  const failedWav = path.join(failedDir, '12.wav')
  for (const f of [stray, youngStray, partial, foreign, failedWav]) await writeFile(f, Buffer.alloc(10))
  await utimes(stray, old, old)
  await utimes(foreign, old, old)
  await utimes(partial, hourAgo, hourAgo)
  await utimes(failedWav, old, old)
  const r = await runRetention(index, mp3Dir, { retentionDays: 30, now: NOW, extraDirs: [failedDir] })
  t.equal(r.deletedFiles, 3)
  t.same((await readdir(mp3Dir)).sort(), ['250101000000_9-1-2.mp3', 'README.txt'])
  t.same(await readdir(failedDir), [])
})

t.test('index: numbering, claiming, replays, schema version', async (t) => {
  const { index, dir } = await setup(t)
  const l = leg(5, NOW)
  t.equal(index.addLeg(l), 'added')
  t.equal(index.addLeg(l), 'replay', 'a replayed leg is ignored')
  const key = legKeyOf(l)
  const files = [1, 2].map((i) => ({ sourceRef: `xapi:${i}`, recordedAt: NOW + i, wavPath: null, xapiId: i }))
  const rows = index.settleLeg(key, files)
  t.same(rows.map((r) => r.fileName), ['250101000000_5-1-1.mp3', '250101000000_5-1-2.mp3'])
  t.not(rows[0].token, rows[1].token)
  t.match(rows[0].token, /^[A-Za-z0-9_-]{24}$/)
  t.ok(index.isClaimed('xapi:2'))
  // The same leg ending again after it was settled gets a leg of its own, and its files keep counting.
  const l2 = { ...l, participantIds: [8], endedAt: NOW + 60_000 }
  t.equal(index.addLeg(l2), 'late')
  const more = index.settleLeg(`${legKeyOf(l2)}/${l2.endedAt}`, [{ sourceRef: 'xapi:3', recordedAt: NOW + 5, wavPath: null, xapiId: 3 }])
  t.same(more.map((r) => r.fileName), ['250101000000_5-1-3.mp3'])
  t.equal(index.byToken(rows[0].token, rows[0].fileName), undefined, 'not served before it is converted')
  index.markConverted(rows[0].id, 10)
  t.equal(index.byToken(rows[0].token, rows[0].fileName)?.id, rows[0].id)
  t.equal(index.byToken(rows[1].token, rows[0].fileName), undefined, 'another file\'s token')
  index.close()
  const reopened = SqliteRecordingIndex.open(dir)
  t.equal(reopened.recordingsIn('pending').length, 2, 'state survives a restart')
  reopened.db.prepare("UPDATE schema_versions SET version = 99 WHERE module = 'recordings'").run()
  reopened.close()
  t.throws(() => SqliteRecordingIndex.open(dir), /"recordings" tables are at schema version 99/)
})
