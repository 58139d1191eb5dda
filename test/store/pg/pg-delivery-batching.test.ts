// The PostgreSQL delivery's round trips per batch, not per delivery (no database needed): outcomes
// settled in group commits (store/settle-batch.ts), and claims made when few claimed chains are left
// rather than after every delivery (pg-claimer.ts).
import t, { type Test } from 'tap'
import { SettleBatch } from '../../../src/store/settle-batch.js'
import { PgClaimer } from '../../../src/store/pg/pg-claimer.js'
import type { PgOutbox, SettleItem } from '../../../src/store/pg/pg-outbox.js'
import type { DeliveryJob } from '../../../src/webhooks/outbox-store.js'
import { settle } from '../../fake-clock.js'

const job = (id: number, chain = `c${id}`): DeliveryJob => ({ id, eventId: id, target: 'crm', chain, attempts: 1, nextAt: 0, createdAt: 0 })
const item = (id: number): SettleItem => ({ job: job(id), attempt: { at: 0, statusCode: 200, durationMs: 1, error: null, excerpt: null }, status: 'done', nextAt: 0, leaseUntil: null })

t.test('settles arriving while a write is in flight go together in the next one; each resolves once its batch is written', async (t) => {
  const writes: number[][] = []
  let open: (ok: boolean) => void = () => {}
  const batch = new SettleBatch<SettleItem>(async (items) => {
    writes.push(items.map((i) => i.job.id))
    return await new Promise<boolean>((resolve) => { open = resolve })
  })
  const resolved: number[] = []
  const settleOf = (id: number): Promise<void> => batch.settle(item(id)).then((ok) => { if (ok) resolved.push(id) })
  const all = [settleOf(1), settleOf(2), settleOf(3), settleOf(4)]
  await settle()
  t.same(writes, [[1]], 'the first goes at once')
  t.same(resolved, [], 'not resolved before its write')
  open(true)
  await settle()
  t.same(resolved, [1])
  t.same(writes, [[1], [2, 3, 4]], 'the rest in one batch')
  open(true)
  await Promise.all(all)
  t.same(resolved, [1, 2, 3, 4])
})

t.test('a batch the database could not take: every settle of it says false; a bug rejects them', async (t) => {
  let answer: () => Promise<boolean> = async () => false
  const batch = new SettleBatch<SettleItem>(async () => await answer())
  t.same(await Promise.all([batch.settle(item(1)), batch.settle(item(2))]), [false, false])
  answer = async () => { throw new Error('bug') }
  await t.rejects(batch.settle(item(3)), /bug/)
  answer = async () => true
  t.equal(await batch.settle(item(4)), true, 'the next batch goes on')
})

/**
 * A started claimer (claims of at most 4 chains, no poll during the test) over a fake outbox whose next
 * claim returns `first`, then what `next()` is given; `claims()` counts the claims made.
 */
async function claimerOver (t: Test, first: DeliveryJob[], handed: number[] = []): Promise<{ claimer: PgClaimer, claims: () => number, next: (jobs: DeliveryJob[]) => void }> {
  let claims = 0
  let next = first
  const outbox = { claimChains: async () => { claims++; const out = next; next = []; return out }, release: async () => {} } as unknown as PgOutbox
  const claimer = new PgClaimer(outbox, { consumer: 'a', leaseMs: 1000, limit: 4, pollMs: 60_000 }, (jobs) => { handed.push(...jobs.map((j) => j.id)) })
  t.teardown(async () => { await claimer.stop() })
  claimer.start()
  await settle()
  return { claimer, claims: () => claims, next: (jobs) => { next = jobs } }
}

t.test('a claim after every delivery no more: only when a chain finishes with fewer than half a claim of chains left', async (t) => {
  const handed: number[] = []
  // 4 chains, c1 with two deliveries
  const { claimer, claims } = await claimerOver(t, [job(1), job(2, 'c1'), job(3), job(4), job(5)], handed)
  const first = claims() // a full claim (4 chains) claims again at once
  t.ok(first >= 1)
  t.same(handed, [1, 2, 3, 4, 5])
  claimer.settled(job(1))
  claimer.settled(job(3))
  await settle()
  t.equal(claims(), first, 'c1 still has a delivery; c3 finished with 3 chains left: no claim')
  claimer.settled(job(2, 'c1'))
  await settle()
  t.equal(claims(), first, '2 chains left of a claim of 4: not below half')
  claimer.settled(job(4))
  await settle()
  t.equal(claims(), first + 1, '1 chain left: claims more')
})

t.test('behind (half a claim of chains still being sent here): a local write or the poll claims nothing, the other replicas\' polls take the rest', async (t) => {
  const { claimer, claims, next } = await claimerOver(t, [job(1), job(2)])
  t.equal(claims(), 1)
  next([job(3)])
  claimer.wake() // an event written here, as the stream holder does for every call
  await settle()
  t.equal(claims(), 1, '2 chains of a claim of 4 being sent: not claimed, left for another replica')
  claimer.settled(job(1))
  await settle()
  t.equal(claims(), 2, 'below the mark again: it claims (the chain left, c3)')
  claimer.wake()
  await settle()
  t.equal(claims(), 2, 'c2 and c3 being sent: at the mark again')
  claimer.settled(job(2))
  await settle()
  t.equal(claims(), 3, 'one chain left: it claims again')
})

t.test('a chain waiting for a retry (its receiver failed) is not being sent: it does not hold back other chains', async (t) => {
  const { claimer, claims, next } = await claimerOver(t, [job(1), job(2)])
  t.equal(claims(), 1, 'two chains of a claim of 4 being sent: at the mark')
  claimer.retrying(job(1))
  await settle()
  t.equal(claims(), 2, 'c1 waits for its retry: one chain is being sent, it claims')
  claimer.retrying(job(1))
  claimer.wake()
  await settle()
  t.equal(claims(), 3, 'a second failure of the same chain changes nothing (still one being sent)')
  next([job(3)])
  claimer.wake()
  await settle()
  t.equal(claims(), 4)
  claimer.wake()
  await settle()
  t.equal(claims(), 4, 'c2 and c3 being sent: at the mark')
  claimer.settled(job(1))
  await settle()
  t.equal(claims(), 4, 'c1 sent at last and finished: still c2 and c3, no claim')
})
