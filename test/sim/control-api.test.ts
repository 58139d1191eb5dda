// The simulator's /_sim control API: script validation with reasons, directory state that decides
// who rings, call status, the event log, faults and reset.
import t from 'tap'
import { CALLER, notation, sleep, startCcSim } from './callcontrol-harness.js'

t.test('bad scripts answer 400 with the reason, and start nothing', async (t) => {
  const cc = await startCcSim(t)
  const dir = cc.sim.ctx.directory
  dir.users.find((u) => u.Number === '102')!.QueueStatus = 'LoggedOut'
  dir.users.find((u) => u.Number === '103')!.CurrentProfileName = 'Away'
  dir.users.find((u) => u.Number === '104')!.IsRegistered = false
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ from: CALLER, to: '+15550101', answer: '102' }, /agent 102 is logged out of queue 800/],
    [{ from: CALLER, to: '+15550101', answer: '103' }, /extension 103 is in profile Away/],
    [{ from: CALLER, to: '+15550100', menu: '2', answer: '104' }, /extension 104 is not registered/],
    [{ from: CALLER, to: '+15550101', answer: '105' }, /105 is not a member of queue 800/],
    [{ from: CALLER, to: '+15550100', menu: '7', answer: null }, /IVR 900 has no option 7/],
    [{ from: CALLER, to: '+15550100', answer: '101' }, /never leaves the IVR/],
    [{ from: CALLER, to: '101' }, /not a DID/],
    [{ from: CALLER, to: '+15550102', answer: '103' }, /rings extension 102, not 103/],
    [{ from: '101', to: '+15559870000', answer: '102' }, /outbound call is answered by "remote"/],
    [{ from: '101', to: '102', answer: 'remote' }, /"remote" answers only outbound calls/],
    [{ from: CALLER, to: '+15550102', answer: '102', transfer: { kind: 'blind', to: '104' } }, /transfer target cannot answer: extension 104 is not registered/],
    [{ from: CALLER, to: '+15550102', transfer: { kind: 'blind', to: '103' } }, /needs an extension that answers/],
    [{ from: CALLER, to: '+15550101', overflow: '700' }, /not a queue/],
    [{ from: 'abc', to: '101' }, /neither an extension nor an external number/],
    [{ from: '101', to: '101' }, /cannot call itself/],
    [{ from: '101', to: '102', ringMs: -5 }, /ringMs/],
    [{ from: '101', to: '102', colour: 'red' }, /additional properties/],
    [{ from: '101' }, /to/],
    [{ from: '101', to: '102', transfer: { kind: 'warm', to: '103' } }, /kind/],
    [{ from: '101', to: '102', menu: '12' }, /menu/]
  ]
  for (const [script, reason] of bad) {
    const res = await cc.post('/_sim/calls', script)
    t.equal(res.status, 400, JSON.stringify(script))
    t.match(res.body, { error: { message: reason } }, String(reason))
  }
  t.equal(cc.sim.ctx.engine.records().length, 0, 'no call was started')
  t.equal((await cc.get('/_sim/events')).body.events.length, 0)
})

t.test('only reachable agents ring; unregistered, disabled and logged-out users are skipped', async (t) => {
  const cc = await startCcSim(t)
  const dir = cc.sim.ctx.directory
  dir.users.find((u) => u.Number === '102')!.QueueStatus = 'LoggedOut'
  dir.users.find((u) => u.Number === '100')!.Enabled = false
  const q = await cc.call({ from: CALLER, to: '+15550101', answer: '103', ringMs: 100, talkMs: 100 })
  const rg = await cc.call({ from: '105', to: '700', answer: '101', ringMs: 100, talkMs: 100 })
  await cc.waitEnded([q, rg])
  const rung = (lines: string[]): string[] => lines.filter((l) => / Ringing .*obo=/.test(l)).map((l) => l.slice(1, 4))
  t.same(rung(notation(await cc.eventsOf(q))), ['101', '103'], '102 is logged out of the queue')
  t.same(rung(notation(await cc.eventsOf(rg))), ['101'], '100 is disabled')
  t.same(cc.sim.ctx.engine.records().find((r) => r.callid === q)?.queue?.agentsRung, ['101', '103'])
})

t.test('call status, event log paging and 404s', async (t) => {
  const cc = await startCcSim(t)
  // Rings 1.5 s: the status is read while it rings (a 100 ms ring was over before the read once, on a loaded machine).
  const res = await cc.post('/_sim/calls', { from: '101', to: '+15559870000', answer: 'remote', ringMs: 1500, talkMs: 100 })
  t.equal(res.status, 201)
  t.match(res.body, { callid: Number, chain: new RegExp(`^\\d{12}_${res.body.callid as number}$`) })
  const ringing = await cc.get(`/_sim/calls/${res.body.callid as number}`)
  t.match(ringing.body, { status: 'ringing', kind: 'outbound', legs: [{ dn: '101', status: 'Dialing' }, { dn: '10000', status: 'Dialing' }] })
  await cc.waitEnded([res.body.callid])
  const ended = await cc.get(`/_sim/calls/${res.body.callid as number}`)
  t.match(ended.body, { status: 'ended', legs: [], answeredAt: String, endedAt: String })
  t.match(await cc.get('/_sim/calls/999999'), { status: 404, body: { error: { code: 'NOT_FOUND' } } })
  t.match(await cc.get('/_sim/calls/abc'), { status: 400 })

  const all = (await cc.get('/_sim/events')).body
  t.ok(all.events.length >= 6)
  t.equal(all.lastSequence, all.events[all.events.length - 1].sequence)
  t.ok(all.events.every((e: { sentAt: number }) => typeof e.sentAt === 'number' && e.sentAt > 0), 'send times recorded')
  const since = (await cc.get(`/_sim/events?since=${all.events[2].sequence as number}`)).body.events
  t.same(since.map((e: { sequence: number }) => e.sequence), all.events.slice(3).map((e: { sequence: number }) => e.sequence))
  t.match(await cc.get('/_sim/events?since=-1'), { status: 400 })
})

t.test('faults are validated and applied; reset brings back the seed PBX', async (t) => {
  const cc = await startCcSim(t)
  t.match(await cc.post('/_sim/faults', { xapiErrorRate: 2 }), { status: 400, body: { error: { code: 'BAD_REQUEST' } } })
  t.match(await cc.post('/_sim/faults', { latency: 5 }), { status: 400 })
  t.match(await cc.post('/_sim/faults', { latencyMs: 50, xapiErrorRate: 0.1 }), { status: 200, body: { latencyMs: 50, xapiErrorRate: 0.1, down: false } })
  const t0 = Date.now()
  await cc.get('/callcontrol/101')
  t.ok(Date.now() - t0 >= 45, 'latency applies to Call Control requests')
  t.match(await cc.post('/_sim/faults', {}), { body: { latencyMs: 0, xapiErrorRate: 0 } })

  cc.sim.ctx.directory.users[0].FirstName = 'Changed'
  const callid = await cc.call({ from: CALLER, to: '+15550101', answer: '101', ringMs: 100, talkMs: 5000 })
  await sleep(200)
  t.equal(cc.sim.ctx.engine.participants().length, 2, 'agent and trunk legs')
  const watcher = await cc.watch()
  await cc.post('/_sim/faults', { latencyMs: 10 })
  const res = await cc.post('/_sim/reset')
  t.match(res, { status: 200, body: { reset: true } })
  await watcher.settled()
  t.same(watcher.observed.map((o) => o.message.event.event_type), [1, 1], 'reset removes the live legs')
  t.equal(cc.sim.ctx.engine.participants().length, 0)
  t.equal(cc.sim.ctx.directory.users[0].FirstName, 'Anna')
  t.equal(cc.sim.ctx.faults.settings.latencyMs, 0)
  t.equal(cc.sim.ctx.engine.records().length, 0)
  t.equal((await cc.get('/_sim/events')).body.events.length, 0, 'event log cleared')
  t.match(await cc.get(`/_sim/calls/${callid}`), { status: 404 })
  const next = await cc.call({ from: '101', to: '102', answer: null, ringMs: 50 })
  t.ok(next > callid, 'callids keep counting after a reset')
  await cc.waitEnded([next])
})
