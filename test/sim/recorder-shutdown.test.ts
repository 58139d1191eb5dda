// Recordings being written when the simulator closes or resets: close() waits for them and leaves
// nothing behind, so the owner can remove the recordings folder at once (it used to fail with
// ENOTEMPTY when a late WAV was still being written into it).
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import type { Call, Leg } from '../../src/sim/engine/live-call.js'
import type { Recorder } from '../../src/sim/engine/recorder.js'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import { sleep } from './callcontrol-harness.js'

/** Every file under `dir`, relative. */
async function filesUnder (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
}

/** A recorded leg of `talkMs` that ended now: big enough that writing it takes a while. */
function endedLeg (talkMs: number): { call: Call, leg: Leg } {
  const party = (dn: string): Leg['self'] => ({ dn, kind: 'extension', type: 'Wextension', number: dn, name: `Ext ${dn}`, pid: 0 })
  const call = {
    callid: 4242,
    plan: { recordingSegments: 1, kind: 'internal' },
    record: { recordings: [] }
  } as unknown as Call
  const leg = { p: { id: 7 }, self: party('101'), facing: party('102'), role: 'target', connectedAt: Date.now() - talkMs } as unknown as Leg
  return { call, leg }
}

/** Schedules one long recording and resolves once its (temp) file is being written. */
async function writingOne (sim: Simulator, dir: string): Promise<Call> {
  const recorder = (sim.ctx.engine as unknown as { recorder: Recorder }).recorder
  const { call, leg } = endedLeg(20 * 60_000)
  recorder.schedule(call, leg, null)
  for (let i = 0; i < 800; i++) {
    if ((await filesUnder(dir).catch(() => [])).length > 0) return call
    await sleep(5)
  }
  throw new Error('the recording never started')
}

t.test('close() waits for a recording being written and leaves no file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rec-close-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const sim = await createSimulator({ recordingsDir: dir })
  const call = await writingOne(sim, dir)
  await sim.close()
  t.same(await filesUnder(dir), [], 'nothing left (no temp file, no half-written WAV) once close() resolves')
  await rm(dir, { recursive: true })
  await sleep(300)
  t.same(await readdir(dir).catch(() => 'gone'), 'gone', 'nothing recreates the folder afterwards')
  t.same(call.record.recordings, [], 'an aborted recording is not listed')
})

t.test('reset aborts a recording being written', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rec-reset-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const sim = await createSimulator({ recordingsDir: dir })
  t.teardown(async () => { await sim.close() })
  const call = await writingOne(sim, dir)
  sim.reset()
  await sim.ctx.engine.recordingsSettled()
  t.same(await filesUnder(dir), [])
  t.same(call.record.recordings, [])
})

t.test('the recordings folder the simulator made itself goes at close; one it was given stays', async (t) => {
  const own = await createSimulator()
  const made = own.ctx.recordingsDir
  t.ok(made.startsWith(os.tmpdir()), 'made in the temporary folder')
  await own.close()
  await t.rejects(readdir(made), { code: 'ENOENT' }, 'removed at close (every start made one: /tmp filled up with them)')

  const given = await mkdtemp(path.join(os.tmpdir(), 'given-rec-'))
  t.teardown(async () => { await rm(given, { recursive: true, force: true }) })
  const sim = await createSimulator({ recordingsDir: given })
  await sim.close()
  t.same(await readdir(given), [], 'a folder it was given is the owner\'s to keep')
})

t.test('a recordings folder left by a simulator whose process is gone is removed when the next one starts', async (t) => {
  // A process that ended: its pid is free (as a killed simulator's, or a demo gateway's cut off by its shutdown deadline).
  const { spawnSync } = await import('node:child_process')
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
  const left = await mkdtemp(path.join(os.tmpdir(), `3cx-sim-rec-${gone}-`))
  const mine = await mkdtemp(path.join(os.tmpdir(), `3cx-sim-rec-${process.pid}-`))
  const other = await mkdtemp(path.join(os.tmpdir(), '3cx-sim-rec-x-'))
  t.teardown(async () => { for (const d of [left, mine, other]) await rm(d, { recursive: true, force: true }) })
  const sim = await createSimulator()
  t.teardown(async () => { await sim.close() })
  t.match(path.basename(sim.ctx.recordingsDir), new RegExp(`^3cx-sim-rec-${process.pid}-`), 'named by its process')
  await t.rejects(readdir(left), { code: 'ENOENT' }, 'the gone process\'s folder is removed')
  t.same(await readdir(mine), [], 'a folder of this (running) process stays')
  t.same(await readdir(other), [], 'a folder not named by a process stays')
})
