// POST /_sim/traffic: a seeded mix of every call path that the engine plays without errors, all
// calls ending; plus the pure script generator producing only valid scripts.
import t from 'tap'
import { planScript } from '../../src/sim/engine/call-script.js'
import { seededRandom } from '../../src/sim/engine/seeded-random.js'
import { seedDirectory } from '../../src/sim/seed.js'
import { TrafficGenerator, trafficScript } from '../../src/sim/traffic.js'
import { sleep, startCcSim } from './callcontrol-harness.js'

const PATHS = ['queue', 'queue-missed', 'direct', 'ivr', 'ringgroup', 'outbound', 'outbound-missed', 'internal', 'blind', 'attended'] as const

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 3

t.test('the generator only writes scripts the engine accepts, repeatably', { buffered: true }, async (t) => {
  const dir = seedDirectory()
  dir.users.find((u) => u.Number === '101')!.QueueStatus = 'LoggedOut'
  dir.users.find((u) => u.Number === '100')!.IsRegistered = false
  const opts = { maxRingMs: 500, maxTalkMs: 800, recordShare: 0.5 }
  const a = seededRandom(3)
  const b = seededRandom(3)
  for (let i = 0; i < 400; i++) {
    const p = PATHS[i % PATHS.length]
    const script = trafficScript(dir, a, p, opts)
    // planScript refuses a logged-out or unregistered answerer, so this also proves they are avoided.
    t.doesNotThrow(() => planScript(dir, script), `${p}: ${JSON.stringify(script)}`)
    t.same(trafficScript(dir, b, p, opts), script)
  }
})

t.test('a short traffic run plays every path and every call ends', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const watcher = await cc.watch()
  t.match(await cc.post('/_sim/traffic', { callsPerSecond: 0, seconds: 1 }), { status: 400 })
  t.match(await cc.post('/_sim/traffic', { seconds: 1 }), { status: 400, body: { error: { message: /callsPerSecond/ } } })
  // The same 60 calls of seed 5 in one second instead of three (the engine sustains 60 new calls/s).
  const res = await cc.post('/_sim/traffic', { callsPerSecond: 60, seconds: 1, seed: 5, maxRingMs: 300, maxTalkMs: 500, recordShare: 0.2 })
  t.match(res, { status: 202, body: { calls: 60 } })
  for (let i = 0; i < 500 && (await cc.get('/_sim/traffic')).body.running === true; i++) await sleep(20)
  const stats = (await cc.get('/_sim/traffic')).body
  t.match(stats, { running: false, planned: 60, started: 60, failed: 0 })
  t.ok(Object.keys(stats.byPath).length >= 8, `paths used: ${Object.keys(stats.byPath).join(',')}`)
  const ids = cc.sim.ctx.engine.records().map((r) => r.callid)
  t.equal(ids.length, 60)
  await cc.waitEnded(ids, 20_000)
  await watcher.settled()
  t.equal(cc.sim.ctx.engine.participants().length, 0, 'every leg removed')
  const kinds = new Set(cc.sim.ctx.engine.records().map((r) => r.kind))
  t.same([...kinds].sort(), ['inbound', 'internal', 'outbound'])
  const upserts = watcher.observed.filter((o) => o.message.event.event_type === 0)
  const removes = watcher.observed.filter((o) => o.message.event.event_type === 1)
  const legs = new Set(upserts.map((o) => o.message.event.entity))
  t.equal(removes.length, legs.size, 'every leg seen was removed exactly once')
  t.ok(upserts.every((o) => o.fetched !== undefined), 'every upsert fetched')
})

t.test('{"stop":true} stops a run', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  await cc.post('/_sim/traffic', { callsPerSecond: 10, seconds: 60, maxRingMs: 100, maxTalkMs: 100 })
  await sleep(300)
  const stopped = await cc.post('/_sim/traffic', { stop: true })
  t.match(stopped.body, { stopped: true, running: false })
  const n = cc.sim.ctx.engine.records().length
  t.ok(n > 0 && n < 10)
  await sleep(300)
  t.equal(cc.sim.ctx.engine.records().length, n, 'no call after the stop')
})

t.test('firstCallAtOnce (demo mode) starts a call at once; without it the first comes one interval in', async (t) => {
  const cc = await startCcSim(t)
  const traffic = new TrafficGenerator(cc.sim.ctx.engine, () => cc.sim.ctx.directory, 7)
  t.teardown(() => { traffic.stop() })
  traffic.start({ callsPerSecond: 4 / 60, seconds: 600 })
  t.equal(traffic.status().started, 0, 'at 4 calls a minute, nothing in the first 15 s')
  traffic.start({ callsPerSecond: 4 / 60, seconds: 600, firstCallAtOnce: true })
  t.equal(traffic.status().started, 1, 'one call at once')
  t.ok(cc.sim.ctx.engine.records().length >= 1, 'in the engine')
})
