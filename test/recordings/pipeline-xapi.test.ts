// RECORDINGS_SOURCE=xapi end to end: `/Recordings` listed after the call, `Pbx.DownloadRecording`
// over HTTP, MP3s, one `recording` event with working links, segments in order.
import t from 'tap'
import { startPipeline } from './pipeline-harness.js'
import path from 'node:path'
import { downloadAndProbe, firstToneHz } from './download.js'
import { callToneHz } from '../../src/sim/wav.js'
import { PBX } from '../sim/pbx-under-test.js'
import { until } from '../pbx/pbx-fixture.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const QUEUE_LINE = PBX.n('+15550101')
const DIRECT_LINE = PBX.n('+15550102')
const AGENT = PBX.n('101')
const DIRECT = PBX.n('102')
const TARGET = PBX.n('103')

// The cases are independent (a simulator and pipeline each) and mostly wait for their calls: run at once.
t.jobs = 4

t.test('queue call recorded in two segments, via XAPI', { buffered: true }, async (t) => {
  const p = await startPipeline(t, { source: 'xapi' })
  const callid = await p.call({ from: '+15557654321', to: QUEUE_LINE, answer: AGENT, ringMs: 300, talkMs: 2000, record: true, recordingSegments: 2, hangup: 'callee' })
  const ended = await p.ended(callid, AGENT)
  const rec = await p.recording(ended.id)
  t.equal(rec.FILES.length, 2)
  t.match(rec.FILES[0], new RegExp(`/recordings/[A-Za-z0-9_-]{24}/${ended.id}-1\\.mp3$`))
  t.match(rec.FILES[1], new RegExp(`/${ended.id}-2\\.mp3$`))
  const probes = await Promise.all(rec.FILES.map(async (u) => await downloadAndProbe(u)))
  t.equal(probes[0].contentType, 'audio/mpeg')
  const total = probes[0].durationS + probes[1].durationS
  t.ok(Math.abs(total - 2) < 0.6, `MP3s last ${total.toFixed(2)} s for a 2 s conversation (${ended.duration} s)`)
  t.ok(p.sim.ctx.requestLog.some((r) => r.url.includes('Pbx.DownloadRecording(recId=') && r.status === 200), 'downloaded through XAPI')
  t.ok(await p.service.idle(10_000))
  t.same(p.service.index.recordingsIn('done').map((r) => r.wavPath === null || r.wavPath.includes('recordings-wav')), [true, true])
  // recordings.list.get links each XAPI recording to its MP3: the same unguessable links as the event.
  const links = p.service.index.recordingsIn('done').map((r) => p.service.linkForXapiId(r.xapiId ?? -1))
  t.same(links, rec.FILES, 'linkForXapiId gives the links the event announced')
  t.equal(p.service.linkForXapiId(999_999), null, 'an unknown recording has no link')
  t.equal(p.announced.length, 1)
})

t.test('blind transfer: each answered leg gets its own recording event', { buffered: true }, async (t) => {
  const p = await startPipeline(t, { source: 'xapi' })
  const callid = await p.call({
    from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 200, talkMs: 1500, record: true, recordingSegments: 1,
    transfer: { kind: 'blind', to: TARGET, afterMs: 1000, answer: true }
  })
  const first = await p.ended(callid, DIRECT)
  const second = await p.ended(callid, TARGET)
  t.not(first.id, second.id)
  const [r1, r2] = await Promise.all([p.recording(first.id), p.recording(second.id)])
  t.equal(r1.FILES.length, 1)
  t.equal(r2.FILES.length, 1)
  const [a, b] = await Promise.all([downloadAndProbe(r1.FILES[0]), downloadAndProbe(r2.FILES[0])])
  t.ok(Math.abs(a.durationS - first.duration) <= 1, `102: ${a.durationS} s vs ${first.duration} s`)
  t.ok(Math.abs(b.durationS - second.duration) <= 1, `103: ${b.durationS} s vs ${second.duration} s`)
})

t.test('blind transfer nobody takes: one recording event, after the final call-ended event, covering the whole leg', { buffered: true }, async (t) => {
  const p = await startPipeline(t, { source: 'xapi' })
  const callid = await p.call({
    from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 200, talkMs: 1200, record: true, recordingSegments: 1,
    transfer: { kind: 'blind', to: TARGET, afterMs: 1000, answer: false }
  })
  const ends = async (): Promise<number> => p.events.filter((e) => e.type === 'ended' && e.payload.user === DIRECT && e.payload.id.includes(`_${callid}-`)).length
  const id = (await p.ended(callid, DIRECT)).id
  const rec = await p.recording(id, 30_000)
  const final = p.events.findIndex((e) => e.type === 'ended' && e.payload.id === id && (e.payload as { transfer?: string }).transfer === 'false')
  t.equal(await ends(), 2, '102 ended twice: at the transfer, and finally')
  t.ok(final >= 0, 'the final call-ended event was emitted')
  t.ok(final < (p.announced[0]?.seen ?? -1), 'the recording was announced after the leg\'s final call-ended event')
  t.equal(rec.FILES.length, 2, 'both participants of the conversation (before and after the transfer) are in the recording')
  t.equal(p.announced.length, 1)
})

t.test('overlapping recorded calls on one extension: each recording is its own call\'s', { buffered: true }, async (t) => {
  const p = await startPipeline(t, { source: 'xapi' })
  const a = await p.call({ from: '+15557654321', to: QUEUE_LINE, answer: AGENT, ringMs: 200, talkMs: 2500, record: true, recordingSegments: 1, hangup: 'callee' })
  // b rings and is answered while a talks (a: ~0.2–2.7 s, b: from a's answer + 0.2 s, 1 s of talk).
  await until(() => (p.sim.ctx.engine.records().find((r) => r.callid === a)?.answeredAt ?? null) !== null, 5000, 'a answered')
  const b = await p.call({ from: '+15557650000', to: QUEUE_LINE, answer: AGENT, ringMs: 200, talkMs: 1000, record: true, recordingSegments: 1, hangup: 'callee' })
  const [ea, eb] = await Promise.all([p.ended(a, AGENT), p.ended(b, AGENT)])
  const [ra, rb] = await Promise.all([p.recording(ea.id, 30_000), p.recording(eb.id, 30_000)])
  t.equal(ra.FILES.length, 1)
  t.equal(rb.FILES.length, 1)
  t.ok(await p.service.idle(10_000))
  const recordings = p.sim.ctx.engine.records().flatMap((r) => r.recordings.map((x) => ({ callid: r.callid, id: x.Id })))
  t.equal(recordings.length, 2, 'the simulator recorded both calls')
  for (const [ended, callid] of [[ea, a], [eb, b]] as const) {
    const rows = p.service.index.recordingsIn('done').filter((r) => r.fileName.startsWith(`${ended.id}-`))
    t.equal(rows.length, 1)
    t.same(rows.map((r) => recordings.find((x) => x.id === r.xapiId)?.callid), [callid], `call ${callid}'s MP3 is made from call ${callid}'s WAV`)
    // The audio itself says whose it is: the simulator's tone identifies the call.
    const hz = await firstToneHz(path.join(p.config.recordings.mp3Dir, rows[0].fileName))
    t.ok(Math.abs(hz - callToneHz(callid)) < 20, `call ${callid}'s MP3 plays ${hz.toFixed(0)} Hz, its call's tone is ${callToneHz(callid)} Hz`)
  }
})
