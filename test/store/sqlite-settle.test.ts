// SQLite's group commit of delivery outcomes (sqlite-outbox.ts settle(), store/settle-batch.ts): the
// outcomes settled in one turn of the event loop go in one transaction, each settle resolves only once
// that transaction committed, and a batch gateway.db cannot take answers false for each of its settles.
import t, { type Test } from 'tap'
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import type { AttemptRecord } from '../../src/webhooks/outbox-store.js'
import { ringing, target, tempDir } from '../webhooks/helpers.js'

const ok = (at: number): AttemptRecord => ({ at, statusCode: 200, durationMs: 3, error: null, excerpt: 'ok' })

/** An outbox with `n` pending deliveries, and a count of the transactions its database runs. */
function outboxWith (t: Test, n: number): { db: SqliteDatabase, outbox: SqliteOutbox, transactions: () => number } {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { if (db.open) db.close() })
  const outbox = new SqliteOutbox(db, { targets: [target('crm', 'http://127.0.0.1:1/crm')] })
  outbox.enqueueMany(Array.from({ length: n }, (_, i) => ringing(i + 1, 1)))
  let count = 0
  const transaction = db.transaction.bind(db)
  db.transaction = ((fn: (...args: unknown[]) => unknown) => { const run = transaction(fn); return (...args: unknown[]) => { count++; return run(...args) } }) as typeof db.transaction
  return { db, outbox, transactions: () => count }
}

t.test('the outcomes of one turn: one transaction, each settle resolved after it committed', async (t) => {
  const { outbox, transactions } = outboxWith(t, 5)
  const jobs = outbox.pendingJobs('crm')
  const now = Date.now()
  const done: number[] = []
  const settles = jobs.map(async (job) => {
    const written = await outbox.settle({ ...job, attempts: 1 }, ok(now), 'done', now)
    done.push(job.id)
    return written
  })
  t.equal(transactions(), 0, 'nothing written in the turn the settles arrived in')
  t.same(outbox.pendingJobs('crm').length, 5, 'and nothing resolved before the commit')
  t.same(await Promise.all(settles), [true, true, true, true, true])
  t.equal(transactions(), 1, 'five outcomes, one transaction')
  t.same(done, jobs.map((j) => j.id))
  t.same(outbox.pendingJobs('crm'), [], 'all five are done on disk')
  t.same(jobs.map((j) => outbox.attempts(j.id).length), [1, 1, 1, 1, 1], 'each attempt recorded')
  // A settle in a later turn goes in a transaction of its own.
  await outbox.settle({ ...jobs[0], attempts: 2 }, ok(now), 'done', now)
  t.equal(transactions(), 2)
})

t.test('a batch gateway.db cannot take: false for each of its settles, the deliveries stay pending; after a close, false', async (t) => {
  const { db, outbox } = outboxWith(t, 2)
  const jobs = outbox.pendingJobs('crm')
  const now = Date.now()
  // A full disk, as SQLite reports it.
  const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
  const transaction = db.transaction
  db.transaction = (() => () => { throw full }) as unknown as typeof db.transaction
  t.same(await Promise.all(jobs.map(async (job) => await outbox.settle({ ...job, attempts: 1 }, ok(now), 'done', now))), [false, false])
  t.match(outbox.readiness(), /delivery log/, '/readyz names what could not be written')
  db.transaction = transaction
  t.equal(outbox.pendingJobs('crm').length, 2)
  const late = outbox.settle({ ...jobs[0], attempts: 1 }, ok(now), 'done', now)
  db.close()
  t.equal(await late, false, 'closed while its batch gathered: not written, no error')
})

t.test('one outcome gateway.db refuses (its delivery is gone): only that settle fails; the others of its turn are written', async (t) => {
  const { outbox, transactions } = outboxWith(t, 2)
  const jobs = outbox.pendingJobs('crm')
  const now = Date.now()
  const gone = { ...jobs[0], id: 999_999 } // no such delivery: the attempt's foreign key refuses it
  const settles = [jobs[0], gone, jobs[1]].map(async (job) => await outbox.settle({ ...job, attempts: 1 }, ok(now), 'done', now))
  const [first, refused, last] = await Promise.allSettled(settles)
  t.same([first, last], [{ status: 'fulfilled', value: true }, { status: 'fulfilled', value: true }], 'the two real deliveries are settled')
  t.match(refused, { status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } }, 'the bad one fails alone (delivery.ts logs it and retries it later)')
  t.same(outbox.pendingJobs('crm'), [], 'nothing left pending that was delivered')
  t.equal(transactions(), 4, 'the batch, then each of its three alone')
})
