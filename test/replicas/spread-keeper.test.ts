// The spread keeper's damping, on fake time and a fake registry: nothing given back until the list of
// live replicas has been stable for settleMs, nor a tenant held less than minHoldMs; designated
// tenants are taken at once and others after the grace; a failed heartbeat decides nothing.
import t from 'tap'
import { SpreadKeeper } from '../../src/replicas/spread-keeper.js'
import { spreadTenants } from '../../src/replicas/tenant-spread.js'
import type { StreamStatus } from '../../src/replicas/stream-lease.js'

t.test('gives back only after the list settled and the tenant was held long enough', async (t) => {
  let now = 0
  let live = ['gw-a:1']
  let down = false
  const tenants = Array.from({ length: 6 }, (_, i) => `t${i}`)
  const held = new Set(tenants)
  const released: string[] = []
  const status = (id: string): StreamStatus => ({ role: held.has(id) ? 'holder' : 'standby', pbxId: id, replica: 'gw-a:1', holder: held.has(id) ? 'gw-a:1' : null, holderSince: null })
  const keeper = new SpreadKeeper({
    registry: { replica: 'gw-a:1', heartbeat: async () => { if (down) throw new Error('database away'); return live }, leave: async () => {}, close: async () => {} },
    tenants: () => tenants.map((id) => ({ id, stream: () => status(id) })),
    release: async (id) => { released.push(id); held.delete(id) },
    settleMs: 3000,
    minHoldMs: 10_000,
    orphanGraceMs: 2000,
    now: () => now
  })
  await keeper.tick()
  t.same(keeper.status, { replica: 'gw-a:1', live: ['gw-a:1'], quota: 6, holding: 6, designated: tenants }, 'alone: every tenant is its own')
  t.equal(keeper.graceFor('t0'), 0)

  now = 20_000
  live = ['gw-a:1', 'gw-b:2']
  await keeper.tick()
  const mine = spreadTenants(live, tenants).get('gw-a:1') ?? []
  const other = tenants.filter((x) => !mine.includes(x))
  t.equal(keeper.graceFor(other[0]), 2000, 'a tenant designated elsewhere is taken only after the grace')
  t.equal(keeper.graceFor(mine[0]), 0)
  t.same(released, [], 'the list just changed: nothing given back yet')
  now = 22_000
  down = true
  await keeper.tick()
  t.same(released, [], 'no heartbeat: nothing decided')
  down = false
  now = 23_500
  await keeper.tick()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(released.sort(), other.sort(), 'settled for 3 s: gives back what is designated to b')

  // b leaves and comes back at once: the list changed twice, so nothing moves before it settles.
  for (const id of other) held.add(id)
  released.length = 0
  now = 24_000
  live = ['gw-a:1']
  await keeper.tick()
  now = 24_500
  live = ['gw-a:1', 'gw-b:2']
  await keeper.tick()
  now = 27_600
  await keeper.tick()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(released, [], 'the tenants taken back at 24 s are not given back before they were held 10 s')
  now = 34_100
  await keeper.tick()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(released.sort(), other.sort(), 'after 10 s they are')
  await keeper.stop()
})
