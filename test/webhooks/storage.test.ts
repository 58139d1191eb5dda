// gateway.db that cannot be written (a real SQLITE_FULL: PRAGMA max_page_count caps the file at its
// current size, as a full disk does) or that is damaged: the process stays up, /readyz says so
// naming the file, nothing is lost once space returns, a damaged file is refused at start.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import Fastify from 'fastify'
import errorHandler from '../../src/plugins/app/error-handler.js'
import webhookRoutes from '../../routes/webhooks.js'
import { DATABASE_FILE, DatabaseCorruptError, openDatabase, type SqliteDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import { SqliteUnseenCallStore } from '../../src/store/sqlite-unseen-calls.js'
import { storageHealthOf } from '../../src/storage-health.js'
import { fillDisk, freeDisk } from '../store/full-disk.js'
import { startReceiver } from './receiver.js'
import { FAST, ringing, target, tempDir, until } from './helpers.js'

/** Caps the file at its current size: every write that needs a new page fails with SQLITE_FULL. */

/** Enqueues until a write really fails with SQLITE_FULL (a page may have had room left). */
function enqueueUntilFull (outbox: SqliteOutbox, from: number): number {
  let n = 0
  while (outbox.heldCount === 0) {
    outbox.enqueue(ringing(from + n, 1))
    n++
    if (n > 5000) throw new Error('the capped file never filled')
  }
  return n
}

t.test('a full disk while delivering: no crash, /readyz names the file, nothing lost or sent twice once space returns', async (t) => {
  const rx = await startReceiver(0)
  t.teardown(rx.close)
  const db = openDatabase(tempDir(t))
  storageHealthOf(db, { settleMs: 0 }) // recovered at the first good write (test/storage-health.test.ts tests the settle time)
  const outbox = new SqliteOutbox(db, { targets: [target('crm', rx.url)], retryMs: 50 })
  const logs: string[] = []
  outbox.health.log = { error: (_o, m) => logs.push(`error ${m ?? ''}`), info: (_o, m) => logs.push(`info ${m ?? ''}`) }
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  delivery.start()
  t.teardown(async () => { await delivery.stop(500); outbox.close(); db.close() })

  for (let i = 0; i < 20; i++) outbox.enqueue(ringing(1, i))
  await rx.waitFor(20)
  await until(() => outbox.list({ status: 'done' }).length === 20)
  t.equal(outbox.readiness(), null, 'ready before the disk fills')

  // Full: new events and the records of attempts cannot be written.
  fillDisk(db)
  const before = rx.received.length
  const n = enqueueUntilFull(outbox, 100)
  t.ok(n >= 1, 'writes were made until one failed')
  t.ok(outbox.heldCount >= 1, 'the event that could not be written is held in memory')
  const problem = outbox.readiness()
  t.match(problem, new RegExp(`cannot write .*${DATABASE_FILE}.*SQLITE_FULL`), '/readyz names the file and the error')
  t.match(problem, /call events wait in memory/)
  t.ok(logs.some((l) => /^error writing .*gateway\.db failed/.test(l)), 'logged once as an error')
  for (let i = 0; i < 10; i++) outbox.enqueue(ringing(200 + i, 1))
  t.ok(outbox.heldCount >= 11, 'later events queue behind it, in memory')
  t.ok((outbox.health.failures.get('outbox') ?? 0) >= 1, 'counted for /metrics')
  await new Promise((resolve) => setTimeout(resolve, 300))

  // Space returns: the held events are written and delivered, each once.
  freeDisk(db)
  const total = 20 + n + 10
  await until(() => outbox.list({ status: 'done', limit: 1000 }).length === total, 10_000)
  t.equal(outbox.heldCount, 0)
  t.equal(outbox.readiness(), null, 'ready again')
  t.ok(logs.some((l) => /^info writing .*works again/.test(l)), 'the recovery is logged')
  // Unsigned target: each event is told apart by its body (call id and sequence number).
  t.equal(rx.all.length, total, 'one request per event')
  t.equal(new Set(rx.received.map((r) => r.body)).size, total, 'every event arrived once')
  t.ok(rx.received.length > before)
})

t.test('a full disk when an attempt is recorded: the delivery is recorded later, not sent again', async (t) => {
  const rx = await startReceiver(0)
  t.teardown(rx.close)
  const db = openDatabase(tempDir(t))
  storageHealthOf(db, { settleMs: 0 }) // recovered at the first good write (test/storage-health.test.ts tests the settle time)
  const outbox = new SqliteOutbox(db, { targets: [target('crm', rx.url)] })
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  t.teardown(async () => { await delivery.stop(500); db.close() })
  outbox.enqueue(ringing(7, 1))
  // Full, and the attempts table's last page too: recording the attempt needs a page it cannot get.
  fillDisk(db)
  const filler = db.prepare('INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms, error, excerpt) VALUES (1, 0, 599, 0, NULL, ?)')
  let rows = 0
  t.throws(() => { for (;;) { filler.run(null); rows++ } }, { code: 'SQLITE_FULL' })
  delivery.start()
  await rx.waitFor(1)
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(rx.all.length, 1, 'the delivered event was not sent again while its record could not be written')
  t.match(outbox.readiness(), /SQLITE_FULL.*first by the delivery log/)
  t.equal(outbox.list({ status: 'pending' }).length, 1, 'on disk it is still pending')
  freeDisk(db)
  await until(() => outbox.list({ status: 'done' }).length === 1, 5000)
  t.equal(rx.all.length, 1, 'sent exactly once')
  t.equal(outbox.readiness(), null)
  t.ok(rows > 0)
})

t.test('unseen-calls and call-state writes on a full disk do not throw; the unseen rows are written later', async (t) => {
  const db = openDatabase(tempDir(t))
  storageHealthOf(db, { settleMs: 0 }) // recovered at the first good write (test/storage-health.test.ts tests the settle time)
  t.teardown(() => { db.close() })
  const unseen = new SqliteUnseenCallStore(db)
  const states = new SqliteCallStateStore(db)
  unseen.addMissing([{ callid: 5, since: 1, after: 1 }])
  fillDisk(db)
  let n = 0
  t.doesNotThrow(() => {
    while (storageHealthOf(db).problem === null && n < 5000) unseen.addMissing([{ callid: 100 + n++, since: 1, after: 1 }])
  }, 'addMissing on a full disk')
  t.not(storageHealthOf(db).problem, null, 'the failure is reported')
  t.doesNotThrow(() => { unseen.removeMissing([5]) }, 'removeMissing on a full disk')
  t.doesNotThrow(() => { unseen.saveHighest(99, 2) })
  t.equal(states.write([{ callid: 1, chid: 'x', state: { big: 'y'.repeat(100_000) } as never }], []), false, 'a failed state write is kept in memory, not thrown')
  t.ok((storageHealthOf(db).failures.get('call state') ?? 0) >= 1)
  freeDisk(db)
  unseen.saveHighest(100, 3)
  const loaded = await unseen.load()
  t.equal(loaded.highest, 100)
  t.notOk(loaded.missing.some((m) => m.callid === 5), 'the removal waited and was written in order')
  t.equal(loaded.missing.length, n, 'every missing call written')
  t.equal(storageHealthOf(db).problem, null)
})

t.test('a damaged gateway.db is refused at start, naming the file', async (t) => {
  const dir = tempDir(t)
  const db = openDatabase(dir)
  const outbox = new SqliteOutbox(db, { targets: [] })
  for (let i = 0; i < 400; i++) outbox.enqueue(ringing(i, 1))
  db.close()
  const file = path.join(dir, DATABASE_FILE)
  const size = fs.statSync(file).size
  t.ok(size > 40_000, `the file is big enough to damage (${size} bytes)`)
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, Buffer.alloc(20_000, 0xa5), 0, 20_000, Math.floor(size / 2) - 10_000)
  fs.closeSync(fd)
  const err = (() => { try { openDatabase(dir).close(); return null } catch (e) { return e } })()
  t.ok(err instanceof DatabaseCorruptError, 'refused with DatabaseCorruptError')
  t.match((err as Error).message, file, 'naming the file')
  t.match((err as Error).message, /is damaged \(PRAGMA quick_check: .*move the file .* aside/)

  const notDb = tempDir(t)
  fs.writeFileSync(path.join(notDb, DATABASE_FILE), Buffer.alloc(8192, 0x5a))
  t.throws(() => openDatabase(notDb), { name: 'DatabaseCorruptError', message: /SQLITE_NOTADB/ }, 'a file that is no database at all')
})

t.test('a store that turns out damaged at run time keeps /readyz unready', async (t) => {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { db.close() })
  const outbox = new SqliteOutbox(db, { targets: [] })
  const err = Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' })
  outbox.health.failed('delivery log', err)
  outbox.enqueue(ringing(1, 1)) // a write that happens to work elsewhere in the file
  t.match(outbox.readiness(), /gateway\.db is damaged .*SQLITE_CORRUPT.*move the file aside/)
})

t.test('POST /webhooks/deliveries/:id/redeliver on a file that cannot be written answers 503 saying what to do, not 500', async (t) => {
  const db = openDatabase(tempDir(t))
  const outbox = new SqliteOutbox(db, { targets: [target('crm', 'http://127.0.0.1:9/hook')] })
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  const app = Fastify()
  await app.register(errorHandler)
  await app.register(webhookRoutes, { outbox, delivery, preHandler: async () => {} })
  t.teardown(async () => { await app.close(); await delivery.stop(100); db.close() })
  outbox.enqueue(ringing(1, 1))
  // An in-place update never needs a new page, so the cap cannot refuse it: a read-only file does (SQLITE_READONLY).
  db.pragma('query_only = ON')
  const r = await app.inject({ method: 'POST', url: '/webhooks/deliveries/1/redeliver' })
  t.equal(r.statusCode, 503)
  t.match(r.json(), { result: false, error: { code: 'STORAGE_UNAVAILABLE', message: /gateway\.db cannot be written .*free disk space/ } })
  t.match(outbox.readiness(), /cannot write/, '/readyz says so too')
  db.pragma('query_only = OFF')
})
