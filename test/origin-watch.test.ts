// The PBX's call counter beginning again while the gateway runs (issue 15, "state tied to the PBX it
// came from", beyond start-up): the pure rule, the watch on fake time, the discard it triggers (calls
// in memory, the unseen-calls counter, the stored state; not the outbox), and against two real
// simulators standing for one PBX before and after a restart.
import t from 'tap'
import { judgeCounter, OriginWatch, readActiveCallStarts, type ActiveCallStart } from '../src/origin-watch.js'
import { discardEarlierRun, type DiscardedState, type StateOriginStore } from '../src/state-origin.js'
import { CallModel } from '../src/calls/call-model.js'
import { UnseenCalls } from '../src/calls/unseen-calls.js'
import { FakeClock } from './fake-clock.js'
import { participant } from './pbx/fake-callcontrol.js'
import { clientsFor, startCall, startSim } from './pbx/pbx-fixture.js'
import { PBX } from './sim/pbx-under-test.js'

const T = Date.UTC(2026, 11, 6, 9, 0, 0)
const call = (id: number, startedAtS: number): ActiveCallStart => ({ id, startedAt: T + startedAtS * 1000 })

t.test('judgeCounter: ids only grow with time on one PBX run; a later call with an id not above the mark means a restart', async (t) => {
  t.same(judgeCounter(null, []), { mark: null, restartedBy: null })
  t.same(judgeCounter(null, [call(7, 0), call(9, 5)]), { mark: call(9, 5), restartedBy: null }, 'the first look sets the mark')
  t.same(judgeCounter(call(9, 5), [call(8, 1), call(12, 40)]), { mark: call(12, 40), restartedBy: null }, 'an older call still going is no restart')
  t.same(judgeCounter(call(9, 5), [call(9, 5)]), { mark: call(9, 5), restartedBy: null }, 'the same call again')
  t.same(judgeCounter(call(9, 5), [call(9, 8)]), { mark: call(9, 5), restartedBy: null }, 'within the skew (5 s): no verdict')
  t.same(judgeCounter(call(900, 5), [call(3, 60), call(4, 61)]), { mark: call(4, 61), restartedBy: call(3, 60) }, 'a lower id that began later: restarted; the mark begins again')
  t.same(judgeCounter(call(9, 5), [call(9, 300)]), { mark: call(9, 300), restartedBy: call(9, 300) }, 'the same id much later is another call')
  t.same(judgeCounter(call(9, 5), [{ id: Number.NaN, startedAt: T }, { id: 3, startedAt: Number.NaN }]), { mark: call(9, 5), restartedBy: null }, 'unreadable rows are ignored')
  t.same(judgeCounter(call(9, 5), [call(3, 6)], 0), { mark: call(3, 6), restartedBy: call(3, 6) }, 'the skew is an option')
})

t.test('the watch looks every interval, reports a restart once, and ignores a PBX that cannot be read', async (t) => {
  const clock = new FakeClock(T)
  let answer: ActiveCallStart[] | Error = [call(50, 0)]
  const why: string[] = []
  const watch = new OriginWatch({ read: async () => { if (answer instanceof Error) throw answer; return answer }, restarted: (w) => { why.push(w) }, intervalMs: 1000, clock })
  t.teardown(async () => { await watch.stop() })
  watch.start()
  watch.start()
  await clock.advance(1000)
  answer = new Error('PBX down')
  await clock.advance(1000)
  answer = [call(2, 120)]
  await clock.advance(1000)
  await clock.advance(1000)
  t.equal(why.length, 1, 'once: the mark began again')
  t.match(why[0], /call 2 began at 2026-12-06T09:02:00.000Z, after call 50/)
  t.equal(watch.restarts, 1)
  await watch.stop()
  answer = [call(1, 500)]
  await clock.advance(5000)
  t.equal(why.length, 1, 'stopped')
})

t.test('on a restart: the calls in memory, the unseen-calls counter and the stored state go; one warning line', async (t) => {
  const clock = new FakeClock(T)
  const unseen = new UnseenCalls()
  const model = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, clock, unseen })
  t.teardown(() => { model.stop() })
  model.apply({ kind: 'resync', dns: [{ dn: '101', type: 'Wextension', devices: [], participants: [participant('101', 1, { callid: 1011, status: 'Connected' })] }], at: T })
  t.equal(model.size(), 1)
  t.ok(model.isBusy('101'))
  t.equal(unseen.last?.callid, 1011)
  const discarded: string[] = []
  const store: StateOriginStore = {
    load: async () => null,
    save: () => {},
    discardPbxState: (): DiscardedState => { discarded.push('store'); return { calls: 1, unseenCalls: 2, recordings: 3 } }
  }
  const lines: string[] = []
  const gone = await discardEarlierRun({ store, forgetInMemory: () => { unseen.reset(); return model.discardAll() }, log: { info: () => {}, warn: (_o, m) => { lines.push(m ?? '') } } }, 'the call counter began again')
  t.same(gone, { calls: 1, unseenCalls: 2, recordings: 3 })
  t.same(discarded, ['store'])
  t.equal(model.size(), 0, 'no call of the earlier run is left to be matched with a new one')
  t.notOk(model.isBusy('101'))
  t.equal(unseen.last, null, 'the next snapshot sets a new baseline')
  t.equal(lines.length, 1)
  t.match(lines[0], /began again\): discarded 1 calls in progress, 2 unseen calls and 3 pending recordings .*undelivered webhooks are kept/)
  // A new call reusing the id starts afresh (a new chid, its own events).
  model.apply({ kind: 'upsert', participant: participant('101', 1, { callid: 1011 }), dnType: 'Wextension', at: T + 60_000 })
  t.equal(model.size(), 1)
  t.equal(model.list()[0].chid, '261206090100_1011')
})

t.test('against the simulator: one PBX run, then another whose counter began again (ActiveCalls Id and EstablishedAt)', async (t) => {
  const before = await startSim(t)
  // The PBX's numbers (SIM_PBX): the default PBX's queue line and agent, mapped by role on another.
  const script = { from: '+15557654321', to: PBX.n('+15550101'), answer: PBX.n('101'), ringMs: 200, talkMs: 60_000 }
  const first = await startCall(before, script)
  await startCall(before, script)
  const after = await startSim(t) // the same PBX restarted: its counter begins where the first one's did
  let pbx = clientsFor(t, before.url).xapi
  const why: string[] = []
  const watch = new OriginWatch({ read: async () => await readActiveCallStarts(pbx), restarted: (w) => { why.push(w) }, skewMs: 200 })
  t.teardown(async () => { await watch.stop() })
  t.equal(await watch.check(), false, 'the first look sets the mark')
  const seen = await readActiveCallStarts(pbx)
  t.same(seen.map((c) => c.id).sort(), [first, first + 1], 'ActiveCalls Id is the callid (as the simulator has it; unverified on a real PBX)')
  await new Promise((resolve) => setTimeout(resolve, 400))
  const again = await startCall(after, script)
  t.ok(again <= first + 1, `the restarted PBX numbers from the start again (${again})`)
  pbx = clientsFor(t, after.url).xapi
  t.equal(await watch.check(), true, 'a call that began later with an id not above the mark')
  t.match(why[0], new RegExp(`call ${again} began at .*, after call ${first + 1}`))
  t.equal(await watch.check(), false, 'once: the mark began again')
})
