import t from 'tap'
import { migratePg, PG_MIGRATIONS } from '../../../src/store/pg/pg-migrations.js'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { DatabaseVersionError } from '../../../src/store/database.js'
import { testDatabase } from './pg-test-db.js'

t.test('migrations run once: a second start and five concurrent starts apply nothing twice', async (t) => {
  const url = await testDatabase(t)
  const stores = Array.from({ length: 5 }, () => createPgStore(url, { max: 2 }))
  t.teardown(async () => { for (const s of stores) await s.close() })
  const applied = await Promise.all(stores.map(async (s) => await migratePg(s.pool, s.name)))
  t.equal(applied.reduce((a, b) => a + b, 0), PG_MIGRATIONS.length, 'every step applied by exactly one of the concurrent starts')
  t.equal(await migratePg(stores[0].pool, stores[0].name), 0, 'a later start applies nothing')
  const rows = (await stores[0].pool.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows
  t.same(rows, PG_MIGRATIONS.map((m, i) => ({ version: i + 1, name: m.name })))
})

t.test('a database migrated by a newer gateway is refused with a clear message; a failed step leaves nothing behind', async (t) => {
  const url = await testDatabase(t)
  const s = createPgStore(url)
  t.teardown(s.close)
  await migratePg(s.pool, s.name)
  await t.rejects(migratePg(s.pool, s.name, PG_MIGRATIONS.slice(0, 1)), DatabaseVersionError)
  await t.rejects(migratePg(s.pool, s.name, [...PG_MIGRATIONS, { name: 'broken', sql: 'CREATE TABLE half (x INT); SELECT nonsense_fn()' }]), /nonsense_fn/)
  t.equal((await s.pool.query("SELECT to_regclass('half') AS t")).rows[0].t, null, 'the failed step was rolled back')
  t.equal((await s.pool.query('SELECT MAX(version) AS v FROM schema_migrations')).rows[0].v, PG_MIGRATIONS.length)
})

t.test('a database that cannot be reached at start stops it with a sentence naming it, without its password', async (t) => {
  const s = createPgStore('postgres://gw:Secret-Pw@127.0.0.1:1/gateway', { connectTimeoutMs: 500 })
  t.teardown(s.close)
  const err = await migratePg(s.pool, s.name).then(() => null, (e: unknown) => e as Error)
  t.match(err?.message, /^cannot reach postgres:\/\/gw:\*\*\*@127\.0\.0\.1:1\/gateway at start \(.*ECONNREFUSED.*\); check DATABASE_URL/)
  t.notMatch(err?.message, /Secret-Pw/)
})
