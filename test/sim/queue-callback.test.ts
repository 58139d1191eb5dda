// Queue callbacks (script "callback": true): the caller waits in the queue while the agents ring,
// asks to be called back and hangs up; the agent the script names then calls the number back.
import t from 'tap'
import { CALLER, notation, startCcSim } from './callcontrol-harness.js'
import { FAST_SIM_TIMING } from './fast-timing.js'

/** The DID whose inbound rule sends callers to queue 800 (agents 101, 102, 103, ring all). */
const SALES = '+15550101'

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 4

t.test('a caller who requests a callback hangs up; the agent calls them back', { buffered: true }, async (t) => {
  // The callback is placed like a makecall: it answers and talks the simulator's timing (shortened).
  const cc = await startCcSim(t, { timing: FAST_SIM_TIMING })
  const callid = await cc.call({ from: CALLER, to: SALES, answer: '102', ringMs: 200, callback: true })
  await cc.waitEnded([callid])
  const status = (await cc.get(`/_sim/calls/${callid}`)).body
  t.match(status, { status: 'ended', answeredAt: null, answeredBy: null, queue: { dn: '800', abandoned: false, answeredBy: null, agentsRung: ['101', '102', '103'] } })
  const back = status.queue.callback.callid as number
  t.type(back, 'number', 'the callback is a call of its own')
  const events = notation(await cc.eventsOf(callid))
  t.equal(events.filter((e) => e.startsWith('-')).length, 5, 'every leg of the waiting call is removed')
  const record = cc.sim.ctx.engine.records().find((r) => r.callid === callid)
  t.ok(record?.segments.some((s) => s.dst.dn === '800' && s.action === 'callback'), 'the queue segment ends as a callback')

  await cc.waitEnded([back], 20_000)
  t.match((await cc.get(`/_sim/calls/${back}`)).body, { kind: 'outbound', from: '102', to: CALLER, answeredBy: null, status: 'ended' })
  t.ok(cc.sim.ctx.engine.records().find((r) => r.callid === back)?.answeredAt, 'the caller answers the callback')
})

t.test('nobody to call back: the callback fails; scripts that cannot wait in a queue are refused', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: SALES, answer: null, ringMs: 50, callback: true })
  await cc.waitEnded([callid])
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { queue: { abandoned: false, callback: { callid: null } } })
  t.equal(cc.sim.ctx.engine.activeCalls(), 0, 'no call was placed back')
  for (const script of [
    { from: CALLER, to: '+15550102', callback: true },
    { from: '101', to: '800', callback: true },
    { from: '101', to: '+15557000003', answer: 'remote', callback: true },
    { from: CALLER, to: SALES, overflow: '801', callback: true },
    { from: CALLER, to: SALES, callback: 'yes' }
  ]) {
    t.match(await cc.post('/_sim/calls', script), { status: 400 }, JSON.stringify(script))
  }
  t.throws(() => cc.sim.ctx.engine.startCall({ from: CALLER, to: SALES, callback: 1 as unknown as boolean }), /callback must be true or false/)
})

t.test('a callback whose agent can no longer call out places nothing', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: SALES, answer: '103', ringMs: 100, callback: true })
  const agent = cc.sim.ctx.directory.users.find((u) => u.Number === '103')
  if (agent === undefined) throw new Error('seed lost 103')
  agent.IsRegistered = false
  await cc.waitEnded([callid])
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { queue: { callback: { callid: null } } })
})

t.test('traffic sends a share of its callers through a queue callback', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  t.match(await cc.post('/_sim/traffic', { callsPerSecond: 20, seconds: 0.2, callbackShare: 1, maxRingMs: 100, maxTalkMs: 100, seed: 5 }), { status: 202, body: { calls: 4 } })
  let stats = (await cc.get('/_sim/traffic')).body
  for (let i = 0; i < 100 && stats.running === true; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    stats = (await cc.get('/_sim/traffic')).body
  }
  t.match(stats, { started: 4, failed: 0, byPath: { callback: 4 } })
  const waiting = cc.sim.ctx.engine.records().filter((r) => r.kind === 'inbound').map((r) => r.callid)
  t.equal(waiting.length, 4)
  await cc.waitEnded(waiting)
  for (const id of waiting) t.match((await cc.get(`/_sim/calls/${id}`)).body, { queue: { dn: '800', abandoned: false, callback: { callid: Number } } })
  t.match(await cc.post('/_sim/traffic', { callsPerSecond: 1, seconds: 1, callbackShare: 2 }), { status: 400 })
  cc.sim.reset()
})
