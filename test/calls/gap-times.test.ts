// Calls the gateway knew before a gap in the Call Control stream (the PBX unreachable for a few
// seconds, then a reconnect and a snapshot) and that were answered, transferred or ended during it:
// their events carry the PBX's times (ActiveCalls, call log), not the moment the gateway looked
// again; where the PBX does not say, the event says `timing: approximate`. Simulator, real sockets.
import t, { type Test } from 'tap'
import { startSim, clientsFor, startCall, until } from '../pbx/pbx-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [DIRECT, TARGET] = ['102', '103'].map((n) => PBX.n(n))
const DIRECT_LINE = PBX.n('+15550102')
import { CallModel } from '../../src/calls/call-model.js'
import { createCallTimesLookup } from '../../src/calls/pbx-call-times.js'
import { createCallRecordLookup } from '../../src/calls/pbx-call-record.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { Simulator } from '../../src/sim/simulator.js'

t.setTimeout(90_000)

interface SimCall { answeredAt: string | null, endedAt: string | null, status: string }

async function simCall (sim: Simulator, callid: number): Promise<SimCall> {
  const res = await fetch(`${sim.url}/_sim/calls/${callid}`)
  return (await res.json()) as SimCall
}

type Payload = Record<string, unknown>

/** A gateway's call model on the simulator, with the PBX lookups production wires in. */
async function gateway (t: { teardown: (fn: () => unknown) => void }, sim: Simulator): Promise<{ events: Payload[], model: CallModel }> {
  const { callControl, xapi } = clientsFor(t, sim.url)
  const events: Payload[] = []
  const model = new CallModel({
    timeZone: 'UTC',
    graceMs: 300,
    internalCalls: true,
    blindSince: () => callControl.blindSince(),
    oldestPendingChange: () => callControl.oldestPendingUpsert(),
    callTimes: createCallTimesLookup(xapi),
    callRecords: createCallRecordLookup(xapi),
    reconcileWaitMs: 5000,
    onEvent: (e: CallEvent) => { events.push(e.payload as unknown as Payload) }
  })
  t.teardown(() => { model.stop() })
  callControl.onChange((c) => { model.apply(c) })
  callControl.start()
  await callControl.ready()
  return { events, model }
}

const of = (events: Payload[], callid: number, event: string, user: string): Payload | undefined =>
  events.find((p) => String(p.chid).endsWith(`_${callid}`) && p.event === event && p.user === user)

/** The PBX unreachable for `ms` (every connection cut and refused): a gap in what the gateway sees. Returns once it is back up. */
async function gap (sim: Simulator, ms: number): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ down: true, downForMs: ms }) })
  if (res.status !== 200) throw new Error(`/_sim/faults answered ${res.status}`)
  await until(() => !sim.ctx.faults.settings.down, ms + 5000, 'the PBX to be up again')
}

/**
 * A call to 102 that rings `ringMs` and talks `talkMs`; while it rings the PBX is unreachable for
 * `gapMs`, so the answer (and maybe the end) falls into the gap. Its events must carry the true
 * answer time and talk time (±1 s), with no `timing` mark.
 */
async function answeredInGap (t: Test, script: { ringMs: number, talkMs: number }, gapMs: number): Promise<void> {
  const sim = await startSim(t)
  const { events } = await gateway(t, sim)
  const callid = await startCall(sim, { from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ...script })
  await until(() => of(events, callid, 'ringing', DIRECT) !== undefined, 5000, 'ringing seen')
  await gap(sim, gapMs)
  await until(() => of(events, callid, 'incoming', DIRECT) !== undefined, 15_000, 'call ended')
  const truth = await simCall(sim, callid)
  const answeredAt = Date.parse(truth.answeredAt ?? '')
  const talked = (Date.parse(truth.endedAt ?? '') - answeredAt) / 1000
  const started = of(events, callid, 'hangupincoming', DIRECT) as Payload
  t.ok(Math.abs(Date.parse(String(started.timestamp)) - answeredAt) <= 1000, `call-started stamped at the answer (${String(started.timestamp)} vs ${String(truth.answeredAt)})`)
  const ended = of(events, callid, 'incoming', DIRECT) as Payload
  t.ok(Math.abs(Number(ended.duration) - talked) <= 1, `duration ${String(ended.duration)} s, talked ${talked.toFixed(1)} s`)
  t.equal(started.timing, undefined, 'exact: no approximate timing')
  t.equal(ended.timing, undefined)
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 3

t.test('answered during a gap, still talking after it: the answer time and duration are the PBX\'s (ActiveCalls)', { buffered: true }, async (t) => {
  // Answered 1.2 s into the call, ~2 s before the gateway sees again, ending ~2 s after that.
  await answeredInGap(t, { ringMs: 1200, talkMs: 4000 }, 3000)
})

t.test('answered and ended during a gap: started at the answer, ended with the talk time (call log)', { buffered: true }, async (t) => {
  // Answered 1 s into the call, ended at 3 s, ~1 s before the gateway sees again.
  await answeredInGap(t, { ringMs: 1000, talkMs: 2000 }, 4000)
})

t.test('transferred during a gap: the PBX does not say when the target answered; its end waits for the call log and takes the PBX\'s talk time', { buffered: true }, async (t) => {
  const sim = await startSim(t)
  const { events } = await gateway(t, sim)
  const callid = await startCall(sim, { from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 300, talkMs: 2500, transfer: { kind: 'blind', to: TARGET, afterMs: 1500, answer: true } })
  await until(() => of(events, callid, 'hangupincoming', DIRECT) !== undefined, 5000, 'the direct user answered')
  await gap(sim, 3500)
  await until(() => of(events, callid, 'incoming', TARGET) !== undefined, 15_000, 'call ended')
  const transferred = of(events, callid, 'incoming', DIRECT) as Payload
  t.match(transferred, { transfer: 'true', timing: 'approximate' }, 'the transferor\'s end fell into the gap')
  t.match(of(events, callid, 'hangupincoming', TARGET), { trtype: 'Blind', timing: 'approximate' }, 'the target\'s answer fell into the gap')
  const ended = of(events, callid, 'incoming', TARGET) as Payload
  t.match(ended, { transfer: 'false' })
  t.equal(ended.timing, undefined, 'the duration is the PBX\'s: not approximate')
  // The simulator hangs up talkMs after the target answered (2.1 s into the call, in the gap that
  // lasted until ~4 s): 2.5 s of talk, of which the gateway saw ~0.6.
  t.ok(Math.abs(Number(ended.duration) - 2.5) <= 1, `duration ${String(ended.duration)} s, the target talked 2.5 s (the gateway saw it answer at ${String(of(events, callid, 'hangupincoming', TARGET)?.timestamp)})`)
})
