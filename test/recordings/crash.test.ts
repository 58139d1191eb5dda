// A gateway killed (SIGKILL) while ffmpeg converts a recording: after the restart the recording is
// converted and announced exactly once, and no half-written MP3 is ever visible under its name.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { probeAudio } from '../../src/recordings/audio-probe.js'
import { resolveFfmpegPath } from '../../src/recordings/ffmpeg-pool.js'
import { openDatabase } from '../../src/store/database.js'
import { writeWav } from './wav-fixture.js'
import { TS_CHILD_ARGS } from '../ts-child.js'

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url))

interface Run { child: ChildProcess, output: () => string, exited: Promise<number | null> }

function start (env: Record<string, string>): Run {
  const child = spawn(process.execPath, [...TS_CHILD_ARGS, CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

async function until (what: string, ms: number, probe: () => boolean | Promise<boolean>, log = (): string => ''): Promise<void> {
  const end = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log()}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

t.test('SIGKILL during a conversion: converted and announced once after restart', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rec-crash-'))
  const running: ChildProcess[] = []
  t.teardown(async () => {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await rm(root, { recursive: true, force: true })
  })
  const recordingsDir = path.join(root, '3cx')
  const dataDir = path.join(root, 'data')
  const mp3Dir = path.join(dataDir, 'mp3')
  // A long call (2 min: about a second of ffmpeg), so ffmpeg is surely still busy when the kill comes (some 10-150 ms after its first bytes).
  const seconds = 120
  await writeWav(path.join(recordingsDir, '101', 'Tom-Smith_+15557654321_20250301100000_42.wav'), seconds)
  const now = Date.now()
  const leg = { callid: 42, chid: '250301100000_42', legacyId: '250301100000_42-1', dn: '101', participantIds: [3], startedAt: now - seconds * 1000, endedAt: now - 1000 }
  const env = { DATA_DIR: dataDir, RECORDINGS_DIR: recordingsDir }
  /** The recording events in the outbox, with how many deliveries each has. */
  const announced = (): Array<{ payload: string, deliveries: number }> => {
    const db = openDatabase(dataDir)
    try {
      return db.prepare(`SELECT e.payload, (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries
        FROM webhook_events e WHERE e.type = 'recording'`).all() as Array<{ payload: string, deliveries: number }>
    } finally { db.close() }
  }

  const first = start({ ...env, LEG: JSON.stringify(leg), TEST_LOG_LEVEL: 'debug' })
  running.push(first.child)
  // A wait on a condition (60 s: a loaded machine may start the child slowly); a child that exits
  // early or never starts ffmpeg fails with its log, which says why.
  await until('ffmpeg writing the partial MP3', 60_000, async () => {
    if (first.child.exitCode !== null) throw new Error(`the first gateway exited (${first.child.exitCode}) before ffmpeg started:\n${first.output()}`)
    return (await readdir(mp3Dir).catch(() => [])).some((f) => f.endsWith('.partial'))
  }, first.output)
  first.child.kill('SIGKILL')
  await first.exited
  t.notOk(existsSync(path.join(mp3Dir, '250301100000_42-1-1.mp3')), 'no MP3 under the final name after the kill')
  t.equal(announced().length, 0, 'nothing announced before the kill')

  const second = start(env)
  running.push(second.child)
  await until('the restarted pipeline to finish', 90_000, () => second.output().includes('idle') || second.child.exitCode !== null)
  t.match(second.output(), /idle/, second.output())
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)

  const events = announced()
  t.equal(events.length, 1, 'announced once')
  t.equal(events[0].deliveries, 1, 'one delivery queued for the CRM target')
  const payload = JSON.parse(events[0].payload)
  t.match(payload, { event: 'recording', id: '250301100000_42-1', chid: '250301100000_42' })
  t.match(payload.FILES, [/^https:\/\/gw\.example\.com\/recordings\/[A-Za-z0-9_-]{24}\/250301100000_42-1-1\.mp3$/])
  const probe = await probeAudio(resolveFfmpegPath(''), path.join(mp3Dir, '250301100000_42-1-1.mp3'))
  t.ok(Math.abs(probe.durationS - seconds) < 1, `MP3 lasts ${probe.durationS} s`)

  // The leg announced again, as PostgreSQL leaves it after a crash between the event's commit and the
  // leg's (or as a second replica would): the repeat has the same natural key, so the same webhook id,
  // and the outbox keeps the first copy alone.
  const db = openDatabase(dataDir)
  t.equal(db.prepare("UPDATE recording_legs SET state = 'converting' WHERE state = 'announced'").run().changes, 1)
  db.close()
  const third = start(env)
  running.push(third.child)
  await until('the third start to be idle', 60_000, () => third.output().includes('idle') || third.child.exitCode !== null)
  third.child.kill('SIGTERM')
  await third.exited
  t.equal(announced().length, 1, 'announced again, stored once')
})
