import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgCallStateStore, PgUnseenCallStore, pgCallStores } from '../../../src/store/pg/pg-call-state.js'
import { PgStateOrigin } from '../../../src/store/pg/pg-state-origin.js'
import { PgRecordingIndex } from '../../../src/store/pg/pg-recording-index.js'
import { legKeyOf, type EndedLeg } from '../../../src/recordings/recording-index.js'
import { callStateContract } from '../call-state-contract.js'
import { proxiedDatabase, testDatabase } from './pg-test-db.js'
import { ringing, target, until } from '../../webhooks/helpers.js'
import { PgOutboxStore } from '../../../src/store/pg/pg-outbox-store.js'

callStateContract(t, async (t) => {
  const url = await testDatabase(t)
  return {
    open: async () => {
      const store = createPgStore(url)
      t.teardown(store.close)
      await migratePg(store.pool, store.name)
      const calls = new PgCallStateStore(store)
      const unseen = new PgUnseenCallStore(store)
      return {
        calls,
        unseen,
        origin: new PgStateOrigin(store),
        flush: async () => {
          t.equal(await calls.writes.flush(), true)
          t.equal(await unseen.writes.flush(), true)
        }
      }
    }
  }
})

t.test('writes made while the database is unreachable wait, are reported, and are written once it is back', async (t) => {
  const { url, direct, proxy } = await proxiedDatabase(t)
  const setup = createPgStore(direct)
  t.teardown(setup.close)
  await migratePg(setup.pool, setup.name)
  const store = createPgStore(url, { settleMs: 0, connectTimeoutMs: 500 })
  t.teardown(store.close)
  const calls = new PgCallStateStore(store, Date.now, 50)
  t.teardown(() => { calls.writes.close() })
  await proxy.down()
  t.equal(calls.write([{ callid: 1, chid: 'c1', state: {} as never }], []), true, 'the caller is not held up')
  t.equal(await calls.writes.flush(), false)
  t.equal(calls.writes.size, 1, 'the write waits')
  calls.write([{ callid: 1, chid: 'c1', state: { n: 2 } as never }, { callid: 2, chid: 'c2', state: {} as never }], [])
  t.match(store.health.readiness(), /cannot write postgres:\/\/postgres@127\.0\.0\.1:\d+\/gw_test_\w+ .*first by the call state/)
  await proxy.up()
  await until(() => calls.writes.size === 0 && store.health.readiness() === null)
  t.same(await new PgCallStateStore(setup).loadAll(), [{ callid: 1, chid: 'c1', state: { n: 2 } }, { callid: 2, chid: 'c2', state: {} }], 'retried on its own, the latest state of each call')
})

t.test('a password in DATABASE_URL never reaches storage health', async (t) => {
  const down = createPgStore('postgres://postgres:secret-pw@127.0.0.1:1/nowhere', { connectTimeoutMs: 500 })
  t.teardown(down.close)
  const calls = new PgCallStateStore(down)
  t.teardown(() => { calls.writes.close() })
  calls.write([{ callid: 1, chid: 'c1', state: {} as never }], [])
  t.equal(await calls.writes.flush(), false)
  t.match(down.health.readiness(), /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere .*ECONNREFUSED/)
  t.notMatch(down.health.readiness(), /secret-pw/)
})

t.test('pending recordings in PostgreSQL are discarded with the PBX state, and counted; announced ones stay', async (t) => {
  const store = createPgStore(await testDatabase(t))
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  const calls = new PgCallStateStore(store)
  calls.write([{ callid: 1, chid: 'c1', state: {} as never }], [])
  await calls.writes.flush()
  const index = new PgRecordingIndex(store, 'replica-a')
  const leg = (n: number): EndedLeg => ({ callid: n, chid: `c${n}`, legacyId: `250101000000_${n}-1`, dn: '101', participantIds: [n], startedAt: 1, endedAt: 2 })
  for (const n of [1, 2, 3]) await index.addLeg(leg(n))
  await index.settleLeg(legKeyOf(leg(2)), [{ sourceRef: 'xapi:2', recordedAt: 1, wavPath: null, xapiId: 2 }])
  await index.settleLeg(legKeyOf(leg(3)), [{ sourceRef: 'xapi:3', recordedAt: 1, wavPath: null, xapiId: 3 }])
  await index.announce(legKeyOf(leg(3)), () => {})
  t.same(await new PgStateOrigin(store).discardPbxState(), { calls: 1, unseenCalls: 0, recordings: 2 })
  t.same((await index.recordingsIn('pending')).map((r) => r.sourceRef), ['xapi:3'], 'the announced leg keeps its recording')
})

// A call the model has seen is on the unseen list until its state is written (unseen-calls.ts). The
// list's removal must not overtake the state, or a replica killed in between leaves the call in
// neither table (failover.test.ts lost a call-ended event that way: the next holder neither resumed
// the call nor looked it up). Both ride in the outbox's transactions, with the call's events.
t.test('a call leaves the unseen list only with its state and its events', async (t) => {
  const store = createPgStore(await testDatabase(t))
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  const outbox = new PgOutboxStore(store, { targets: [target('crm', 'http://127.0.0.1:1/')] })
  t.teardown(async () => { await outbox.close() })
  const { calls, unseen } = pgCallStores(store, outbox.alongside)
  unseen.addMissing([{ callid: 7, since: 1, after: 0 }])
  t.equal(await unseen.writes.flush(), true, 'the call is on the unseen list')
  // Whatever transaction writes a call state waits (another session locks the table).
  const locker = await store.pool.connect()
  t.teardown(() => { locker.release() })
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE live_calls IN EXCLUSIVE MODE')
  // The model's publish(): the events, the call's state, then persisted().
  outbox.enqueue(ringing(7, 1))
  calls.write([{ callid: 7, chid: 'c7', state: { n: 1 } as never }], [])
  unseen.removeMissing([7])
  // Looked at from outside the locking transaction (pg_stat_activity is read once per transaction).
  const count = async (sql: string): Promise<number> => Number((await store.pool.query(sql)).rows[0].n)
  while (await count("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  const where = async (): Promise<string> => {
    const [live, missing] = await Promise.all(['live_calls', 'unseen_calls'].map(async (table) => await count(`SELECT COUNT(*) AS n FROM ${table} WHERE callid = 7`)))
    return live > 0 ? 'state' : missing > 0 ? 'unseen' : 'neither'
  }
  const seen = new Set<string>()
  for (let i = 0; i < 30; i++) seen.add(await where())
  t.same([...seen], ['unseen'], 'while the state waits the call stays on the unseen list (never in neither table)')
  t.equal(await count('SELECT COUNT(*) AS n FROM webhook_events'), 0, 'and its event is not stored either')
  await locker.query('ROLLBACK')
  t.equal(await calls.writes.flush(), true)
  t.equal(await where(), 'state', 'then the state is written and the call is off the list')
  t.equal(await count('SELECT COUNT(*) AS n FROM webhook_events'), 1, 'with its event')
})

// Events are written 500 to a transaction: a state handed over after more events than that commits
// with the transaction of its own events, not with an earlier one (ahead of them) nor a later one.
t.test('each call state commits in the transaction of the events handed over before it, however many wait', async (t) => {
  const store = createPgStore(await testDatabase(t))
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  const outbox = new PgOutboxStore(store, { targets: [] })
  t.teardown(async () => { await outbox.close() })
  const { calls } = pgCallStores(store, outbox.alongside)
  const committed: string[] = []
  const insert = outbox.outbox.insert.bind(outbox.outbox)
  outbox.outbox.insert = async (...args) => {
    const out = await insert(...args)
    const events = Number((await store.pool.query('SELECT COUNT(*) AS n FROM webhook_events')).rows[0].n)
    const state = (await store.pool.query<{ state: { n: number } }>('SELECT state FROM live_calls WHERE callid = 7')).rows[0]?.state.n
    committed.push(`${events} events, state ${state ?? 'none'}`)
    return out
  }
  let seq = 0
  const events = (n: number): void => { for (let i = 0; i < n; i++) outbox.enqueue(ringing(7, ++seq)) }
  events(300)
  calls.write([{ callid: 7, chid: 'c7', state: { n: 300 } as never }], [])
  events(300)
  calls.write([{ callid: 7, chid: 'c7', state: { n: 600 } as never }], [])
  calls.write([{ callid: 8, chid: 'c8', state: { n: 1 } as never }], [])
  events(100)
  calls.write([{ callid: 7, chid: 'c7', state: { n: 700 } as never }], [])
  t.equal(await calls.writes.flush(), true)
  t.same(committed, ['500 events, state 300', '700 events, state 700'], 'never a state ahead of its events, never one behind them')
  t.same((await calls.loadAll()).map((c) => c.callid), [7, 8])
})
