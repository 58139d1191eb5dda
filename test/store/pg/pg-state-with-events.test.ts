// On PostgreSQL a call's state commits in the same transaction as its events' outbox rows (as on
// SQLite): a replica killed at any moment leaves the two agreeing, so the next holder never resumes a
// call from a state behind the events already sent. With the state written after its events, in a
// transaction of its own, a kill in between left the events without their state: the next holder
// stamped later events earlier than the ones sent and put conversations on other links
// (tenant-faults.test.ts, failover.test.ts).
import t from 'tap'
import { Writable } from 'node:stream'
import pg from 'pg'
import { loadConfig } from '../../../src/config.js'
import { startGateway } from '../../../src/server.js'
import { pgGatewayFixture } from './pg-gateway-fixture.js'
import { PBX } from '../../sim/pbx-under-test.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

async function poll (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a call\'s events are never committed without its state: while the state cannot be written, neither are they', async (t) => {
  const { url, db, sim, env } = await pgGatewayFixture(t, 'pg-state-events-key-0123456789abcdef')
  const gw = await startGateway(loadConfig({ ...env, DATA_DIR: t.testdir({}) }), { logStream: quiet() })
  t.teardown(() => gw.close())
  await gw.services.pbx.callControl.ready()

  // The moment of a kill, held open: another session locks the call-state table, so whatever
  // transaction writes a call's state waits right there.
  const locker = new pg.Client({ connectionString: url })
  await locker.connect()
  t.teardown(async () => { await locker.end() })
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE live_calls IN EXCLUSIVE MODE')

  const res = await fetch(`${sim.url}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to: PBX.n('+15550102'), answer: PBX.n('102'), ringMs: 200, talkMs: 600_000, hangup: 'caller' })
  })
  t.equal(res.status, 201, 'a call rings')
  const count = async (c: pg.Client | pg.Pool, sql: string): Promise<number> => Number((await c.query(sql)).rows[0].n)
  // Looked at from outside the locking transaction (pg_stat_activity is read once per transaction).
  await poll(async () => await count(db, "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0, 10_000, 'the call state write')
  t.equal(await count(db, 'SELECT COUNT(*) AS n FROM webhook_events'), 0, 'no event of the call is committed while its state waits: a kill now leaves neither, and the next holder derives them again from the same start')

  await locker.query('ROLLBACK')
  await poll(async () => await count(db, 'SELECT COUNT(*) AS n FROM webhook_events') > 0 && await count(db, 'SELECT COUNT(*) AS n FROM live_calls') === 1, 10_000, 'the events and the state')
  t.pass('once the state can be written, the events and the state commit together')
})
