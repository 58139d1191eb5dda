// createSimulator({ timing }): the simulator's own durations (what no script sets) follow it. Each
// case measures a duration on the simulator's own records and checks it is the configured one, not
// the real PBX's default (makecall: 1 s to answer, 10 s of talk, 20 s of ringing; keys 1 s after a
// route point answers; recordings 0.2–2 s after the leg), which timers can only exceed.
import t from 'tap'
import { createSimulator } from '../../src/sim/simulator.js'
import { DEFAULT_SIM_TIMING, simTiming } from '../../src/sim/engine/sim-timing.js'
import { randomInt, seededRandom } from '../../src/sim/engine/seeded-random.js'
import { CALLER, startCcSim, type CcSim } from './callcontrol-harness.js'
import { until } from '../pbx/pbx-fixture.js'

async function ended (cc: CcSim, callid: number): Promise<{ startedAt: number, answeredAt: number | null, endedAt: number }> {
  await cc.waitEnded([callid], 10_000)
  const r = cc.sim.ctx.engine.records().find((x) => x.callid === callid)
  if (r === undefined || r.endedAt === null) throw new Error(`no record of call ${callid}`)
  return { startedAt: r.startedAt.getTime(), answeredAt: r.answeredAt?.getTime() ?? null, endedAt: r.endedAt.getTime() }
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 4

t.test('a makecall answers after timing.answerMs and talks timing.talkMs; one nobody answers gives up after timing.noAnswerMs', { buffered: true }, async (t) => {
  const cc = await startCcSim(t, { timing: { answerMs: 20, talkMs: 300, noAnswerMs: 400 } })
  const made = await cc.post('/callcontrol/101/makecall', { destination: '102' })
  t.equal(made.status, 200)
  const call = await ended(cc, made.body.result.callid as number)
  t.ok(call.answeredAt !== null && call.answeredAt - call.startedAt < DEFAULT_SIM_TIMING.answerMs, `answered ${String((call.answeredAt ?? 0) - call.startedAt)} ms after the start`)
  const talked = call.endedAt - (call.answeredAt ?? 0)
  // A Node timer may fire up to 1 ms early by Date.now() (libuv's cached loop time): 299 ms was measured once.
  t.ok(talked >= 299 && talked < DEFAULT_SIM_TIMING.talkMs, `talked ${talked} ms`)

  // 105 to a queue whose agents are all logged out: it rings and nobody answers.
  for (const u of cc.sim.ctx.directory.users) if (u.Number === '104' || u.Number === '105') u.QueueStatus = 'LoggedOut'
  const unanswered = await cc.post('/callcontrol/106/makecall', { destination: '801' })
  t.equal(unanswered.status, 200)
  const rang = await ended(cc, unanswered.body.result.callid as number)
  t.equal(rang.answeredAt, null, 'nobody answered')
  t.ok(rang.endedAt - rang.startedAt >= 399 && rang.endedAt - rang.startedAt < DEFAULT_SIM_TIMING.noAnswerMs, `gave up after ${rang.endedAt - rang.startedAt} ms`)
})

t.test('a route-point script presses its keys timing.digitsAfterAnswerMs after the answer', { buffered: true }, async (t) => {
  const cc = await startCcSim(t, { timing: { digitsAfterAnswerMs: 50 } })
  const w = await cc.watch()
  const callid = await cc.call({ from: CALLER, to: '+15550104', talkMs: 3000, dtmf: '5' })
  let leg: { id: number, status: string } | undefined
  await until(async () => {
    leg = ((await cc.get('/callcontrol/599/participants')).body as Array<{ id: number, status: string }>).find((p) => p.status === 'Ringing')
    return leg !== undefined
  }, 5000, 'the route point ringing')
  if (leg === undefined) throw new Error('no ringing leg')
  t.equal((await cc.post(`/callcontrol/599/participants/${leg.id}/answer`, {})).status, 200)
  await until(() => w.observed.some((o) => o.message.event.event_type === 2), 5000, 'the keys')
  // Both times are the simulator's own: when it sent the route point's Connected upsert, and the keys.
  const events = (await cc.get('/_sim/events')).body.events as Array<{ event_type: number, sentAt: number, dn: string, participant: { status: string } }>
  const connected = events.find((e) => e.event_type === 0 && e.dn === '599' && e.participant.status === 'Connected')
  const keys = events.find((e) => e.event_type === 2)
  const after = (keys?.sentAt ?? Infinity) - (connected?.sentAt ?? 0)
  t.ok(after >= 49 && after < DEFAULT_SIM_TIMING.digitsAfterAnswerMs, `pressed ${after} ms after the answer`)
  await cc.post(`/callcontrol/599/participants/${leg.id}/drop`, {})
  await cc.waitEnded([callid])
})

t.test('recordings are written within timing.recordingDelayMs of the leg\'s end', { buffered: true }, async (t) => {
  // Seed 7: the default delays would write this first recording 1969 ms after its leg (recorder.ts draws them from the seed).
  const seed = 7
  const defaultDelay = randomInt(seededRandom(seed), ...DEFAULT_SIM_TIMING.recordingDelayMs)
  const cc = await startCcSim(t, { seed, timing: { recordingDelayMs: [0, 0] } })
  const callid = await cc.call({ from: CALLER, to: '+15550102', answer: '102', ringMs: 50, talkMs: 200, record: true })
  const call = await ended(cc, callid)
  await until(() => cc.sim.ctx.engine.records().find((r) => r.callid === callid)?.recordings.length === 1, 5000, 'the recording')
  const listedAfter = Date.now() - call.endedAt
  t.ok(listedAfter < defaultDelay, `listed ${listedAfter} ms after the call ended`)
})

t.test('a timing that is not a duration is refused, naming it', { buffered: true }, async (t) => {
  t.same(simTiming(), DEFAULT_SIM_TIMING)
  t.same(simTiming({ answerMs: 0 }).answerMs, 0)
  await t.rejects(createSimulator({ timing: { answerMs: -1 } }), /timing\.answerMs must be an integer number of ms from 0 to 3600000, got -1/)
  t.throws(() => simTiming({ talkMs: 1.5 }), /timing\.talkMs must be an integer/)
  t.throws(() => simTiming({ recordingDelayMs: [500, 100] }), /the least delay \(500\) is more than the most \(100\)/)
  t.throws(() => simTiming({ recordingDelayMs: [5] as unknown as [number, number] }), /\[least, most\]/)
  t.throws(() => simTiming({ ringMs: 5 } as unknown as Partial<typeof DEFAULT_SIM_TIMING>), /timing\.ringMs is not a simulator timing/)
})
