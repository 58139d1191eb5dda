// RECORDINGS_SOURCE=dir end to end: a recorded simulator call → WAVs in 3CX's folder layout →
// MP3s → one `recording` event with working links, segments in order.
import t from 'tap'
import { probeAudio } from '../../src/recordings/audio-probe.js'
import { resolveFfmpegPath } from '../../src/recordings/ffmpeg-pool.js'
import { startPipeline } from './pipeline-harness.js'
import { downloadAndProbe } from './download.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const DIRECT_LINE = PBX.n('+15550102')
const DIRECT = PBX.n('102')
const CALLING = PBX.n('101')

// The cases are independent (a simulator and pipeline each) and mostly wait for their calls: run at once.
t.jobs = 2

t.test('a recorded call with two segments: two links, in order, total duration = the call', { buffered: true }, async (t) => {
  const p = await startPipeline(t, { source: 'dir' })
  const callid = await p.call({ from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 200, talkMs: 2000, record: true, recordingSegments: 2, hangup: 'caller' })
  const ended = await p.ended(callid, DIRECT)
  t.equal(ended.finishtype, 'Ok')
  const rec = await p.recording(ended.id)
  t.equal(rec.event, 'recording')
  t.equal(rec.chid, ended.chid)
  t.equal(rec.FILES.length, 2)
  t.match(rec.FILES[0], new RegExp(`^${p.config.publicUrl}/recordings/[A-Za-z0-9_-]{24}/${ended.id}-1\\.mp3$`))
  t.match(rec.FILES[1], new RegExp(`/${ended.id}-2\\.mp3$`))
  t.not(rec.FILES[0].split('/')[4], rec.FILES[1].split('/')[4], 'each file has its own token')
  t.equal(rec.finishtype, undefined, 'no call-ended fields without RECORDING_FULL_INFO')
  const probes = await Promise.all(rec.FILES.map(async (url) => await downloadAndProbe(url)))
  for (const probe of probes) {
    t.equal(probe.codec, 'mp3')
    t.equal(probe.channels, 1)
  }
  const total = probes[0].durationS + probes[1].durationS
  t.ok(Math.abs(total - 2) < 0.6, `MP3s last ${total.toFixed(2)} s for a 2 s conversation (${ended.duration} s)`)
  // The 3CX WAVs stay where they are: the gateway never deletes the PBX's files.
  const wav = p.service.index.recordingsOf(`${ended.id}/${ended.user}`)[0]
  t.ok(wav?.wavPath?.startsWith(p.sim.ctx.recordingsDir))
  t.same((await probeAudio(resolveFfmpegPath(''), wav.wavPath as string)).codec, 'pcm_s16le')
  t.equal(p.announced.length, 1, 'announced once')
})

t.test('an unrecorded call produces no recording event; RECORDING_FULL_INFO adds the ended fields', { buffered: true }, async (t) => {
  const p = await startPipeline(t, { source: 'dir', env: { RECORDING_FULL_INFO: '1' } })
  const plain = await p.call({ from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 100, talkMs: 500, record: false })
  const recorded = await p.call({ from: CALLING, to: '+15559870000', answer: 'remote', ringMs: 100, talkMs: 1500, record: true, recordingSegments: 1 })
  const endedPlain = await p.ended(plain, DIRECT)
  const endedRec = await p.ended(recorded, CALLING)
  const rec = await p.recording(endedRec.id)
  t.equal(rec.FILES.length, 1)
  t.match(rec, { event: 'recording', id: endedRec.id, user: CALLING, finishtype: 'Ok', duration: endedRec.duration, title: endedRec.title, callerid: '+15559870000' })
  const probe = await downloadAndProbe(rec.FILES[0])
  t.ok(Math.abs(probe.durationS - 1.5) < 0.5, `duration ${probe.durationS}`)
  t.ok(await p.service.idle(15_000), 'the unrecorded leg is given up')
  t.equal(p.service.index.legsIn('unrecorded').map((l) => l.legacyId).includes(endedPlain.id), true)
  t.equal(p.announced.length, 1)
})
