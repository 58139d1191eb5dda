// The shared SQLite file: WAL, per-module migrations, refusal of a newer schema.
import t from 'tap'
import { openDatabase, DatabaseVersionError } from '../../src/store/database.js'
import { migrate } from '../../src/store/migrations.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { targetWants } from '../../src/webhooks/outbox-store.js'
import { ringing, target, tempDir } from '../webhooks/helpers.js'

t.test('migrations run once, per module; a newer file is refused', async (t) => {
  const dir = tempDir(t)
  const db = openDatabase(dir)
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL')
  let runs = 0
  const steps = [(d: typeof db) => { runs++; d.exec('CREATE TABLE rec_a (x)') }, (d: typeof db) => { runs++; d.exec('CREATE TABLE rec_b (x)') }]
  migrate(db, 'recordings', steps)
  migrate(db, 'recordings', steps)
  t.equal(runs, 2)
  new SqliteOutbox(db, { targets: [] }) // eslint-disable-line no-new
  t.throws(() => migrate(db, 'recordings', steps.slice(0, 1)), DatabaseVersionError)
  t.throws(() => migrate(db, 'recordings', steps.slice(0, 1)), /schema version 2, this 3cx-gateway knows only 1/)
  db.pragma('user_version = 7')
  db.close()
  t.throws(() => openDatabase(dir), /newer 3cx-gateway \(database format 7/)
})

t.test('every event is stored; deliveries only for targets that want it', async (t) => {
  const db = openDatabase(tempDir(t))
  t.teardown(() => db.close())
  const outbox = new SqliteOutbox(db, { targets: [target('all', 'http://x'), target('ended', 'http://x', { events: ['ended'] }), target('sales', 'http://x', { didRules: ['Sales line'], extensions: ['101'] })] })
  const seen: number[] = []
  outbox.onEnqueue((jobs) => seen.push(jobs.length))
  const [id] = outbox.enqueueMany([ringing(1, 1), ringing(1, 2, '102')])
  t.ok(outbox.loadEvent(id))
  t.same(seen, [3], 'one notification per batch: all+sales, then all')
  t.same(outbox.depth(), { all: { pending: 2, failed: 0 }, ended: { pending: 0, failed: 0 }, sales: { pending: 1, failed: 0 } })
  t.equal(outbox.pendingJobs('all').length, 2)
  t.notOk(targetWants(target('x', 'http://x', { events: ['recording'] }), ringing(1, 1)))
  t.equal(outbox.prune(Date.now() + 1000), 0, 'pending deliveries are never pruned')
})

t.test('an older database migrates forward on start and keeps its data', async (t) => {
  const dir = tempDir(t)
  const v1 = [(d: SqliteDatabaseT) => { d.exec('CREATE TABLE legs (id INTEGER PRIMARY KEY, name TEXT)') }]
  const v2 = [...v1, (d: SqliteDatabaseT) => { d.exec('ALTER TABLE legs ADD COLUMN state TEXT NOT NULL DEFAULT \'new\'') }]
  const old = openDatabase(dir)
  migrate(old, 'demo', v1)
  old.prepare('INSERT INTO legs (name) VALUES (?)').run('kept')
  old.close()
  const upgraded = openDatabase(dir)
  t.teardown(() => upgraded.close())
  migrate(upgraded, 'demo', v2)
  t.same(upgraded.prepare('SELECT name, state FROM legs').all(), [{ name: 'kept', state: 'new' }])
  t.same(upgraded.prepare("SELECT version FROM schema_versions WHERE module = 'demo'").get(), { version: 2 })
})

type SqliteDatabaseT = ReturnType<typeof openDatabase>
