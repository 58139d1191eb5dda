// The outbox's behaviour every adapter must show (store/sqlite-outbox.ts and store/pg/pg-outbox.ts),
// run by test/store/sqlite-outbox-contract.test.ts and test/store/pg/pg-outbox.test.ts. The SQLite
// adapter answers synchronously (but for settle(), a group commit), the PostgreSQL one with promises:
// the contract awaits either.
import type { Test } from 'tap'
import type { WebhookTargetConfig } from '../../src/config.js'
import type { CallEvent } from '../../src/calls/call-events.js'
import type { AttemptRecord, DeliveryJob, DeliveryStatus, DeliveryView, ListQuery, StoredEvent } from '../../src/webhooks/outbox-store.js'
import { messageIdOf } from '../../src/webhooks/message-id.js'
import { ringing, target } from '../webhooks/helpers.js'

type Maybe<T> = T | Promise<T>

export interface ContractOutbox {
  enqueueMany: (events: readonly CallEvent[]) => Maybe<number[]>
  pendingJobs: (target: string) => Maybe<DeliveryJob[]>
  loadEvent: (eventId: number) => Maybe<StoredEvent | null>
  settle: (job: DeliveryJob, attempt: AttemptRecord, status: DeliveryStatus, nextAt: number) => Maybe<boolean>
  attempts: (deliveryId: number) => Maybe<AttemptRecord[]>
  depth: () => Maybe<Record<string, { pending: number, failed: number }>>
  disableTarget: (name: string, reason: string) => Maybe<void>
  enableTarget: (name: string) => Maybe<void>
  prune: (before: number) => Maybe<number>
  list: (q?: ListQuery) => Maybe<DeliveryView[]>
  redeliver: (id: number) => Maybe<DeliveryJob | null>
}

export const CONTRACT_TARGETS: WebhookTargetConfig[] = [
  target('all', 'http://127.0.0.1:1/all'),
  target('ext102', 'http://127.0.0.1:1/102', { extensions: ['102'] })
]

export type OpenOutbox = (t: Test, targets: WebhookTargetConfig[], now: () => number) => Promise<ContractOutbox>

const attempt = (at: number, statusCode: number | null, error: string | null): AttemptRecord => ({ at, statusCode, durationMs: 12, error, excerpt: error === null ? 'ok' : null })

export function outboxContract (t: Test, open: OpenOutbox): void {
  t.test('an event is stored with one delivery per target that wants it, in order, and read back as written', async (t) => {
    const now = 1_700_000_000_000
    const o = await open(t, CONTRACT_TARGETS, () => now)
    const events = [ringing(1, 1, '101'), ringing(1, 2, '102'), ringing(2, 1, '102')]
    const ids = await o.enqueueMany(events)
    t.equal(ids.length, 3)
    t.ok(ids[0] < ids[1] && ids[1] < ids[2], 'ids grow in the order of the events')
    const all = await o.pendingJobs('all')
    t.same(all.map((j) => j.eventId), ids)
    t.same(all.map((j) => j.chain), events.map((e) => e.chain))
    t.same(all.map((j) => [j.attempts, j.nextAt, j.createdAt]), [[0, now, now], [0, now, now], [0, now, now]])
    t.same((await o.pendingJobs('ext102')).map((j) => j.eventId), [ids[1], ids[2]], 'the extension filter holds')
    const stored = await o.loadEvent(ids[1])
    t.same(stored?.payload, events[1].payload)
    t.equal(stored?.type, 'ringing')
    t.match(stored?.messageId, /^msg_[0-9a-f-]{36}$/)
    t.equal(await o.loadEvent(ids[2] + 1000), null)
    t.same(await o.depth(), { all: { pending: 3, failed: 0 }, ext102: { pending: 2, failed: 0 } })
  })

  t.test('attempts are recorded in order; a delivery retries, then ends done or failed; old done ones are pruned', async (t) => {
    let now = 1_700_000_000_000
    const o = await open(t, CONTRACT_TARGETS.slice(0, 1), () => now)
    await o.enqueueMany([ringing(5, 1), ringing(6, 1)])
    const [a, b] = await o.pendingJobs('all')
    t.equal(await o.settle({ ...a, attempts: 1 }, attempt(now, 500, 'HTTP 500'), 'pending', now + 1000), true)
    const retry = (await o.pendingJobs('all'))[0]
    t.same([retry.id, retry.attempts, retry.nextAt], [a.id, 1, now + 1000], 'still pending, tried once, due later')
    now += 1000
    t.equal(await o.settle({ ...retry, attempts: 2 }, attempt(now, 200, null), 'done', now), true)
    t.equal(await o.settle({ ...b, attempts: 1 }, attempt(now, 410, 'gone'), 'failed', now), true)
    t.same((await o.attempts(a.id)).map((x) => [x.statusCode, x.error, x.durationMs]), [[500, 'HTTP 500', 12], [200, null, 12]])
    t.same(await o.pendingJobs('all'), [])
    t.same(await o.depth(), { all: { pending: 0, failed: 1 } })
    t.equal(await o.prune(now), 0, 'nothing done before `before`')
    t.equal(await o.prune(now + 1), 1, 'the done delivery goes; the failed one stays')
    t.same(await o.depth(), { all: { pending: 0, failed: 1 } })
    t.equal(await o.loadEvent(a.eventId), null, 'its event, needed by no delivery any more, goes with it')
  })

  t.test('a disabled target gets no new deliveries until enabled again', async (t) => {
    const o = await open(t, CONTRACT_TARGETS, () => 1_700_000_000_000)
    await o.disableTarget('all', 'HTTP 410 Gone')
    await o.enqueueMany([ringing(7, 1, '102')])
    t.same((await o.pendingJobs('all')).length, 0)
    t.same((await o.pendingJobs('ext102')).length, 1)
    await o.enableTarget('all')
    await o.enqueueMany([ringing(7, 2, '102')])
    t.same((await o.pendingJobs('all')).length, 1)
  })

  t.test('the delivery log lists newest first with the last attempt, filters by status and target; a delivery is sent again on request', async (t) => {
    const now = 1_700_000_000_000
    const o = await open(t, CONTRACT_TARGETS, () => now)
    const [id] = await o.enqueueMany([ringing(9, 1, '102')])
    const [a] = await o.pendingJobs('all')
    await o.settle({ ...a, attempts: 1 }, attempt(now, 500, 'HTTP 500'), 'failed', now)
    const all = await o.list()
    t.equal(all.length, 2)
    t.same(all.map((d) => d.target), ['ext102', 'all'], 'newest first')
    t.match(all[1], { eventId: id, event: 'ringing', legacyId: `${ringing(9, 1).chain}-0`, status: 'failed', attempts: 1, nextAt: null, lastStatus: 500, lastError: 'HTTP 500', lastAttempt: { statusCode: 500, error: 'HTTP 500', durationMs: 12, at: new Date(now).toISOString() } })
    t.match(all[0], { status: 'pending', lastAttempt: null, nextAt: new Date(now).toISOString() })
    t.same((await o.list({ status: 'failed' })).map((d) => d.id), [a.id])
    t.same((await o.list({ status: 'pending', target: 'all' })), [])
    t.same((await o.list({ target: 'ext102', limit: 1 })).length, 1)
    const again = await o.redeliver(a.id)
    t.same([again?.id, again?.eventId], [a.id, id])
    t.match((await o.list({ target: 'all' }))[0], { status: 'retrying', attempts: 1 })
    t.equal(await o.redeliver(a.id + 1000), null)
  })

  t.test('an event whose key is stored already is stored once: the first copy stays, its webhook id comes from the key', async (t) => {
    const now = 1_700_000_000_000
    const o = await open(t, CONTRACT_TARGETS.slice(0, 1), () => now)
    const keyed = (callid: number, seq: number, key: string): CallEvent => ({ ...ringing(callid, seq), key })
    const [first, second] = await o.enqueueMany([keyed(11, 1, 'c11:ringing:0:101'), keyed(11, 2, 'c11:ringing:0:102')])
    // Derived again (a holder resumed an older state): same keys, other payloads; and one new event.
    const again = await o.enqueueMany([keyed(11, 3, 'c11:ringing:0:101'), keyed(11, 4, 'c11:ringing:1:101'), keyed(11, 5, 'c11:ringing:1:101')])
    t.same([again[0], again[2]], [first, again[1]], 'a repeated key answers with the stored event')
    t.same((await o.pendingJobs('all')).map((j) => j.eventId), [first, second, again[1]], 'one delivery per key, in the order first stored')
    const stored = await o.loadEvent(first)
    t.equal(stored?.payload.callerid, '1', 'the first copy is kept')
    t.equal(stored?.messageId, messageIdOf('c11:ringing:0:101'))
    t.not(messageIdOf('c11:ringing:0:101'), messageIdOf('c11:ringing:1:101'))
  })
}
