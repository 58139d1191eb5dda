import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { DirectoryCache } from '../../src/directory/directory-cache.js'
import { PbxError, type XapiApi } from '../../src/pbx/pbx-api.js'
import { FakeClock } from '../fake-clock.js'
import { until } from '../pbx/pbx-fixture.js'
import { loadConfig } from '../../src/config.js'
import { createPbxClients } from '../../src/pbx/pbx-clients.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { PBX } from '../sim/pbx-under-test.js'
import { READ_KEY, startAppOnSimulator, xapiRequests } from './legacy-harness.js'

/** `real` with its `list` replaced (to delay answers). */
function withList (real: XapiApi, list: XapiApi['list']): XapiApi {
  return {
    get: async (p, o) => await real.get(p, o),
    patch: async (p, b, o) => { await real.patch(p, b, o) },
    post: async (p, b, o) => await real.post(p, b, o),
    download: async (p, o) => await real.download(p, o),
    list
  }
}

const userRequests = (urls: string[], num: string): string[] => urls.filter((u) => u.includes(`/Users?$filter=Number%20eq%20'${num}'`))

// The cache cases below the first need a PBX and its XAPI client, not an app: one simulator for them
// all (each case its own DirectoryCache and its own extensions; the one that injects PBX errors
// clears them again). The first case asks a whole app.
const gw = await (async () => {
  const sim = await createSimulator(PBX.simOptions)
  const clients = createPbxClients(loadConfig({ PBX_URL: sim.url, PBX_CLIENT_ID: PBX.clientId, PBX_CLIENT_SECRET: PBX.secret, GATEWAY_KEYS: READ_KEY }), { retry: { retries: 0 } })
  t.teardown(async () => {
    await clients.close()
    await sim.close()
  })
  return { sim, clients }
})()

t.test('1,000 concurrent cold requests for one extension cause exactly one XAPI request', async (t) => {
  const app = await startAppOnSimulator(t, { auth: { perKeyMax: 10_000 } })
  const from = app.sim.ctx.requestLog.length
  const answers = await Promise.all(Array.from({ length: 1000 }, async () =>
    await app.app.inject({ url: '/ext.info.get?num=103', headers: { 'x-api-key': READ_KEY } })))
  t.ok(answers.every((a) => a.statusCode === 200 && a.json().num === '103'), 'all answered')
  const reqs = xapiRequests(app, from)
  t.equal(userRequests(reqs, '103').length, 1, 'one Users request')
  t.equal(reqs.length, 1, 'and nothing else')
  const stats = app.app.gateway.directory?.stats()
  t.equal(stats?.fetches, 1)
  t.equal((stats?.misses ?? 0) + (stats?.hits ?? 0), 1000)
})

t.test('TTL, stale-while-revalidate, invalidation, stale on PBX failure, bounded size', async (t) => {
  // The TTLs run on a fake clock (no test timing on a busy machine); the PBX requests are real.
  const clock = new FakeClock()
  const dir = new DirectoryCache(gw.clients.xapi, { ttl: { userMs: 150, listMs: 150, missingMs: 150 }, max: 3, clock })
  const log = (): string[] => xapiRequests(gw)

  t.equal((await dir.user('101'))?.firstName, 'Tom')
  t.equal((await dir.user('101'))?.firstName, 'Tom')
  t.equal(userRequests(log(), '101').length, 1, 'second read is a hit')
  t.match(dir.stats(), { hits: 1, misses: 1, fetches: 1 })

  // Change the PBX behind the cache's back: a fresh entry still shows the old value.
  gw.sim.ctx.directory.users.find((u) => u.Number === '101')!.FirstName = 'Thomas'
  t.equal((await dir.user('101'))?.firstName, 'Tom', 'fresh entry served from memory')
  await clock.advance(200)
  t.equal((await dir.user('101'))?.firstName, 'Tom', 'stale entry served at once…')
  t.equal(dir.stats().stale, 1)
  await until(() => dir.peekUser('101')?.firstName === 'Thomas', 5000, 'the background refresh')
  t.equal((await dir.user('101'))?.firstName, 'Thomas', '…and refreshed in the background')
  t.equal(userRequests(log(), '101').length, 2)

  gw.sim.ctx.directory.users.find((u) => u.Number === '101')!.FirstName = 'Tommy'
  dir.invalidateUser('101')
  t.equal((await dir.user('101'))?.firstName, 'Tommy', 'invalidation forces a fetch')

  t.equal(await dir.user('999'), null, 'unknown extension is null')
  t.equal(await dir.user('999'), null)
  t.equal(userRequests(log(), '999').length, 1, 'and the miss is cached too')

  gw.sim.ctx.faults.apply({ xapiErrorRate: 1 })
  await clock.advance(200)
  t.equal((await dir.user('101'))?.firstName, 'Tommy', 'PBX failing: the stale value is kept')
  await until(() => dir.stats().fetchErrors === 1, 5000, 'the failed background refresh')
  t.equal((await dir.user('101'))?.firstName, 'Tommy')
  await t.rejects(dir.user('102'), PbxError, 'nothing cached: the PBX error reaches the caller')
  gw.sim.ctx.faults.apply({})

  for (const n of ['103', '104', '105', '106']) await dir.user(n)
  t.ok(dir.stats().size <= 3, 'bounded')
})

t.test('lists and their indexes', async (t) => {
  const dir = new DirectoryCache(gw.clients.xapi)
  const queues = await dir.queues()
  t.same(queues.list.map((q) => q.number), ['800', '801'])
  t.same(queues.byNumber.get('800')?.members, ['101', '102', '103'])
  t.same(queues.queuesOfAgent.get('104'), ['801'])
  t.same((await dir.ringGroups()).byNumber.get('700')?.members, ['100', '101'])
  t.same(await dir.receptionists(), ['900'])
  t.same(await dir.lines(), ['10000'])
  t.same(await dir.departments(), ['DEFAULT', 'Sales', 'Support'])
  t.match(await dir.pbxVersion(), /^20\./)
  const users = await dir.users()
  t.equal(users.list.length, 20)
  t.equal(users.byNumber.get('115')?.registered, false)
  const before = xapiRequests(gw).length
  await Promise.all([dir.queues(), dir.users(), dir.ringGroups()])
  t.equal(xapiRequests(gw).length, before, 'all cached')
  dir.invalidateQueues()
  await dir.queues()
  t.equal(xapiRequests(gw).length, before + 1)
  dir.clear()
  t.equal(dir.stats().size, 0)
})

t.test('an invalidation during a fetch makes the waiting read fetch the new value', async (t) => {
  const real = gw.clients.xapi
  let delayNext = true
  // The first answer is read from the PBX at once (old data) but arrives late.
  const slow = withList(real, async (p, o) => {
    const res = await real.list(p, o)
    if (delayNext) { delayNext = false; await sleep(200) }
    return res as never
  })
  const dir = new DirectoryCache(slow)
  const pending = dir.user('109')
  await sleep(100)
  gw.sim.ctx.directory.users.find((u) => u.Number === '109')!.LastName = 'Changed'
  dir.invalidateUser('109')
  t.equal((await pending)?.lastName, 'Changed', 'the read started before the set shows the value after it')
  t.equal(dir.stats().fetches, 2)
})

t.test('invalidations one after another during fetches never fail the reads waiting on them', async (t) => {
  const real = gw.clients.xapi
  // Every list answer arrives 120 ms late and honours its abort signal, like the real client.
  const slow = withList(real, async (p, o) => {
    await sleep(120, undefined, { signal: o?.signal })
    return await real.list(p, o) as never
  })
  const dir = new DirectoryCache(slow)
  const reads = [dir.user('113'), dir.users()]
  // A setter every 40 ms: each invalidation lands while the previous refetch is still running.
  for (let i = 0; i < 10; i++) {
    await sleep(40)
    dir.invalidateUser('113')
  }
  const settled = await Promise.allSettled(reads)
  t.same(settled.map((s) => s.status), ['fulfilled', 'fulfilled'], 'both reads answered')
  t.equal((settled[0] as PromiseFulfilledResult<{ number: string } | null>).value?.number, '113')
  t.ok(dir.stats().fetches >= 4, `each read fetched again after the change (${dir.stats().fetches} fetches)`)
})

t.test('reading a cached entry on the real clock starts no timer (lru-cache\'s default started one per millisecond of reads)', async (t) => {
  const dir = new DirectoryCache(gw.clients.xapi)
  const user = await dir.user('102')
  t.ok(user, 'extension 102 read from the PBX')
  // Counted where lru-cache starts them: the global setTimeout, wrapped for these 20 ms.
  let started = 0
  const real = globalThis.setTimeout
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => { started++; return real(...args) }) as typeof setTimeout
  t.teardown(() => { globalThis.setTimeout = real })
  const until = performance.now() + 20
  let reads = 0
  // 20 ms of reads at least (lru-cache's default starts a timer per millisecond), and 200 reads even if this process is descheduled meanwhile.
  while ((performance.now() < until || reads < 200) && performance.now() < until + 5000) {
    if (dir.peekUser('102') === user) reads++
    await Promise.resolve()
  }
  globalThis.setTimeout = real
  t.ok(reads >= 200, `${reads} reads over 20 ms or more`)
  t.equal(started, 0, 'no timer started by the reads')
})
