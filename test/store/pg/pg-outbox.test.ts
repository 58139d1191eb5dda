import t from 'tap'
import type { Test } from 'tap'
import type { WebhookTargetConfig } from '../../../src/config.js'
import { createPgStore, type PgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgOutbox } from '../../../src/store/pg/pg-outbox.js'
import { outboxContract } from '../outbox-contract.js'
import type { CallEvent } from '../../../src/calls/call-events.js'
import type { AttemptRecord, StoredEvent } from '../../../src/webhooks/outbox-store.js'
import { ringing, target } from '../../webhooks/helpers.js'
import { proxiedDatabase, testDatabase } from './pg-test-db.js'

async function openPg (t: Test, targets: WebhookTargetConfig[], now: () => number = Date.now): Promise<{ outbox: PgOutbox, store: PgStore, url: string }> {
  const url = await testDatabase(t)
  const store = createPgStore(url, { settleMs: 0 })
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  return { outbox: new PgOutbox(store, { targets, now }), store, url }
}

outboxContract(t, async (t, targets, now) => (await openPg(t, targets, now)).outbox)

const ONE: WebhookTargetConfig[] = [target('crm', 'http://127.0.0.1:1/crm')]
const ok = (at: number): AttemptRecord => ({ at, statusCode: 200, durationMs: 1, error: null, excerpt: null })

t.test('three consumers claiming at once never send one delivery twice and keep every call in order', async (t) => {
  const { outbox, url } = await openPg(t, ONE)
  const chains = 12
  const perChain = 8
  const events: CallEvent[] = []
  for (let seq = 1; seq <= perChain; seq++) for (let c = 1; c <= chains; c++) events.push(ringing(c, seq))
  const ids = await outbox.enqueueMany(events)
  const byId = new Map(ids.map((id, i) => [id, events[i]]))
  // Three "processes": each its own pool and outbox on the same database.
  const consumers = ['a', 'b', 'c'].map((name) => {
    const store = createPgStore(url, { max: 2 })
    t.teardown(store.close)
    return { name, outbox: new PgOutbox(store, { targets: ONE }), sent: 0 }
  })
  const delivered: Array<{ chain: string, seq: number, by: string }> = []
  const inFlight = new Set<string>()
  await Promise.all(consumers.map(async (c) => {
    for (let idle = 0; idle < 20;) {
      const jobs = await c.outbox.claim(c.name, { limit: 4, leaseMs: 30_000 })
      if (jobs.length === 0) { idle++; await new Promise((resolve) => setTimeout(resolve, 5)); continue }
      idle = 0
      await Promise.all(jobs.map(async (job) => {
        const e = byId.get(job.eventId)
        if (e === undefined) throw new Error('unknown event')
        if (inFlight.has(e.chain)) t.fail(`two deliveries of ${e.chain} in flight at once`)
        inFlight.add(e.chain)
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 4))
        delivered.push({ chain: e.chain, seq: Number(e.payload.callerid), by: c.name })
        inFlight.delete(e.chain)
        c.sent++
        t.equal(await c.outbox.settle({ ...job, attempts: 1 }, ok(Date.now()), 'done', Date.now()), true)
      }))
    }
  }))
  t.equal(delivered.length, chains * perChain, 'every delivery sent exactly once')
  for (let c = 1; c <= chains; c++) {
    const chain = ringing(c, 1).chain
    t.same(delivered.filter((d) => d.chain === chain).map((d) => d.seq), Array.from({ length: perChain }, (_, i) => i + 1), `${chain} in order`)
  }
  t.ok(consumers.filter((c) => c.sent > 0).length >= 2, `the work was shared (${consumers.map((c) => `${c.name}: ${c.sent}`).join(', ')})`)
  t.same(await outbox.pendingJobs('crm'), [])
})

t.test('a claimed delivery is left alone while leased, then taken over when its consumer did not settle it', async (t) => {
  let now = 1_700_000_000_000
  const { outbox } = await openPg(t, ONE, () => now)
  await outbox.enqueueMany([ringing(1, 1), ringing(1, 2)])
  const [first] = await outbox.claim('dies', { leaseMs: 10_000 })
  t.equal(first.attempts, 0)
  t.same(await outbox.claim('other'), [], 'leased: not handed out again, and the next of its call waits behind it')
  now += 10_001
  const again = await outbox.claim('other')
  t.same(again.map((j) => j.id), [first.id], 'the lease ran out: the same delivery (at-least-once), still first')
  await outbox.settle({ ...again[0], attempts: 1 }, ok(now), 'pending', now + 5000)
  t.same(await outbox.claim('other'), [], 'a retry later keeps its call waiting behind it')
  now += 5000
  t.same((await outbox.claim('other')).map((j) => j.id), [first.id])
})

t.test('the database going away during writes is reported by storage health, not a crash, and clears when it is back', async (t) => {
  const { url: proxied, direct: url, proxy } = await proxiedDatabase(t)
  const store = createPgStore(proxied, { settleMs: 0, connectTimeoutMs: 1000 })
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  const outbox = new PgOutbox(store, { targets: ONE })
  await outbox.enqueueMany([ringing(1, 1)])
  t.equal(store.health.readiness(), null)
  await proxy.down()
  await t.rejects(outbox.enqueueMany([ringing(1, 2)]), 'the write fails: the caller keeps the event')
  const direct = createPgStore(url)
  t.teardown(direct.close)
  const [job] = await new PgOutbox(direct, { targets: ONE }).pendingJobs('crm')
  t.equal(await outbox.settle({ ...job, attempts: 1 }, ok(Date.now()), 'done', Date.now()), false, 'settle says false instead of throwing')
  t.match(store.health.readiness(), /cannot write postgres:\/\/postgres@127\.0\.0\.1:\d+\/gw_test_\w+ since .*first by the outbox\); check that the PostgreSQL server is running and reachable$/)
  t.notMatch(store.health.readiness(), /undefined/)
  await proxy.up()
  t.equal(await outbox.settle({ ...job, attempts: 1 }, ok(Date.now()), 'done', Date.now()), true)
  t.equal(store.health.readiness(), null, 'ready again once a write succeeds')
  t.same(await outbox.pendingJobs('crm'), [])
})

t.test('claimChains hands out whole call chains: every pending delivery of a chain to one consumer, in order', async (t) => {
  const now = 1_700_000_000_000
  const { outbox } = await openPg(t, ONE, () => now)
  await outbox.enqueueMany([ringing(1, 1), ringing(2, 1), ringing(1, 2), ringing(1, 3), ringing(2, 2)])
  const a = await outbox.claimChains('a', { limit: 1, leaseMs: 10_000 })
  t.same(a.map((j) => j.chain), Array(3).fill(ringing(1, 1).chain), 'the oldest due chain, whole')
  t.same(a.map((j) => j.id), [...a.map((j) => j.id)].sort((x, y) => x - y), 'in id order')
  const b = await outbox.claimChains('b', { limit: 5 })
  t.same(b.map((j) => j.chain), Array(2).fill(ringing(2, 1).chain), 'another consumer gets only the other chain')
  t.same(await outbox.claimChains('c'), [], 'nothing left while both are leased')
})

t.test('a batch stored in two statements keeps each chain in order over two targets; a claim brings its events along', async (t) => {
  const now = 1_700_000_000_000
  const { outbox } = await openPg(t, [...ONE, target('erp', 'http://127.0.0.1:1/erp')], () => now)
  const events = [ringing(1, 1), ringing(2, 1), ringing(1, 2), ringing(1, 3), ringing(2, 2)]
  const { ids, jobs } = await outbox.insert(events)
  t.equal(ids.length, 5)
  t.same(jobs.map((j) => [j.eventId, j.target]), ids.flatMap((id) => [[id, 'crm'], [id, 'erp']]), 'one delivery per event and target, in event order')
  t.same(jobs.map((j) => j.id), [...jobs.map((j) => j.id)].sort((x, y) => x - y), 'delivery ids drawn in that order')
  const claimed = new Map<number, StoredEvent>()
  const a = await outbox.claimChains('a', { limit: 10 }, claimed)
  t.equal(a.length, 10)
  for (const [i, id] of ids.entries()) t.match(claimed.get(id), { id, type: 'ringing', chain: events[i].chain, payload: { callerid: events[i].payload.callerid } }, `event ${id} came with the claim`)
  t.same(await outbox.loadEvent(ids[0]), claimed.get(ids[0]), 'as loadEvent reads it')
})

t.test('settleMany records a batch in one statement: attempts, states, leases kept only by retries; all or nothing', async (t) => {
  const { outbox, store } = await openPg(t, ONE)
  await outbox.enqueueMany([ringing(1, 1), ringing(2, 1), ringing(3, 1)])
  const [done, retry, failed] = await outbox.claimChains('a', { leaseMs: 60_000 })
  const at = Date.now()
  t.equal(await outbox.settleMany([
    { job: { ...done, attempts: 1 }, attempt: ok(at), status: 'done', nextAt: at, leaseUntil: null },
    { job: { ...retry, attempts: 1 }, attempt: { at, statusCode: 503, durationMs: 2, error: 'HTTP 503', excerpt: 'busy' }, status: 'pending', nextAt: at + 1000, leaseUntil: at + 9000 },
    { job: { ...failed, attempts: 1 }, attempt: { at, statusCode: 400, durationMs: 3, error: 'HTTP 400', excerpt: null }, status: 'failed', nextAt: at, leaseUntil: at + 9000 }
  ]), true)
  const rows = (await store.pool.query('SELECT id, status, attempts, next_at, last_status, claimed_by, claimed_until FROM webhook_deliveries ORDER BY id')).rows
  t.match(rows, [
    { id: done.id, status: 'done', attempts: 1, last_status: 200, claimed_by: null, claimed_until: null },
    { id: retry.id, status: 'pending', attempts: 1, next_at: at + 1000, last_status: 503, claimed_by: 'a', claimed_until: at + 9000 },
    { id: failed.id, status: 'failed', attempts: 1, last_status: 400, claimed_by: null, claimed_until: null }
  ])
  t.same((await outbox.attempts(retry.id)).map((a) => [a.statusCode, a.error, a.excerpt]), [[503, 'HTTP 503', 'busy']])
  await t.rejects(outbox.settleMany([
    { job: { ...retry, attempts: 2 }, attempt: ok(at), status: 'done', nextAt: at, leaseUntil: null },
    { job: { ...retry, attempts: 2 }, attempt: { ...ok(at), durationMs: 2 ** 40 }, status: 'done', nextAt: at, leaseUntil: null }
  ]), 'a batch that cannot be written fails whole')
  t.equal((await outbox.attempts(retry.id)).length, 1, 'nothing of it recorded')
})
