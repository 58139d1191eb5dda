// listenAndPoll's connection goes back to the pool exactly once, however it fails: pg-pool throws on
// a second release, and that throw (inside an 'error' listener or stop()) took a gateway down when
// PostgreSQL went away under a standby.
import pg from 'pg'
import t, { type Test } from 'tap'
import { listenAndPoll } from '../../../src/store/pg/pg-listen.js'
import { testDatabase } from './pg-test-db.js'
import { until } from '../../webhooks/helpers.js'

/** A pool that remembers the clients it hands out, so the test can break them. */
async function watchedPool (t: Test): Promise<{ pool: pg.Pool, clients: pg.PoolClient[] }> {
  const pool = new pg.Pool({ connectionString: await testDatabase(t), max: 4 })
  pool.on('error', () => {})
  t.teardown(async () => { await pool.end() })
  const clients: pg.PoolClient[] = []
  pool.on('acquire', (c) => { clients.push(c) })
  return { pool, clients }
}

t.test('a connection that errors twice is released once and LISTENed again', async (t) => {
  const { pool, clients } = await watchedPool(t)
  const payloads: Array<string | undefined> = []
  const stop = await listenAndPoll(pool, 'gw_listen_test', 50, (p) => { payloads.push(p) }, () => {})
  t.equal(clients.length, 1)
  const first = clients[0]
  t.doesNotThrow(() => { first.emit('error', new Error('connection lost')); first.emit('error', new Error('and again')) }, 'no double release')
  await until(() => clients.length >= 2, 5000)
  // A notification sent before the new connection LISTENs is lost (the poll covers that), so keep sending.
  const sender = setInterval(() => { void pool.query("SELECT pg_notify('gw_listen_test', 'after')").catch(() => {}) }, 50)
  t.teardown(() => { clearInterval(sender) })
  await until(() => payloads.includes('after'), 5000)
  clearInterval(sender)
  t.ok(payloads.includes('after'), 'notifications arrive on the new connection')
  await t.resolves(stop())
})

t.test('stop() while the connection fails releases it once', async (t) => {
  const { pool, clients } = await watchedPool(t)
  const stop = await listenAndPoll(pool, 'gw_listen_test', 1000, () => {}, () => {})
  const stopping = stop()
  clients[0].emit('error', new Error('server closed the connection'))
  await t.resolves(stopping, 'stop() settles without "Release called on client which has already been released"')
})

// After PostgreSQL restarted, getting a connection took longer than the poll: each poll began
// another LISTEN while the last was still connecting, the last one won and the others stayed checked
// out for good, so the pool's end() (services.stop()) never finished: a replica on SIGTERM hung with
// 34 such connections (tenant-faults.test.ts; its teardown then waited for it until the file's timeout).
t.test('a slow reconnection LISTENs on one connection only, and stop() leaves none checked out', async (t) => {
  const { pool, clients } = await watchedPool(t)
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>
  let slow = false
  Object.assign(pool, { connect: async () => { if (slow) await new Promise((resolve) => setTimeout(resolve, 300)); return await connect() } })
  const stop = await listenAndPoll(pool, 'gw_listen_test', 40, () => {}, () => {})
  slow = true
  clients[0].emit('error', new Error('server closed the connection'))
  await until(() => clients.length >= 2, 5000)
  // Long enough for several more polls while one LISTEN is connected already.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(clients.length, 2, 'one new connection, not one per poll')
  await stop()
  await until(() => pool.totalCount === pool.idleCount, 2000).catch(() => {})
  t.equal(pool.totalCount - pool.idleCount, 0, 'no connection left checked out: the pool can end')
})
