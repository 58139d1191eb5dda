import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgCallStateStore, PgUnseenCallStore, pgCallStores } from '../../../src/store/pg/pg-call-state.js'
import { PgStateOrigin } from '../../../src/store/pg/pg-state-origin.js'
import { PgRecordingIndex } from '../../../src/store/pg/pg-recording-index.js'
import { legKeyOf, type EndedLeg } from '../../../src/recordings/recording-index.js'
import { callStateContract } from '../call-state-contract.js'
import { proxiedDatabase, testDatabase } from './pg-test-db.js'
import { until } from '../../webhooks/helpers.js'

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

// A call the model has seen is on the unseen list until its state is written (unseen-calls.ts). On
// PostgreSQL the state waits for its events to be committed; the list's removal must not overtake
// it, or a replica killed in between leaves the call in neither table (failover.test.ts lost a
// call-ended event that way: the next holder neither resumed the call nor looked it up).
t.test('a call leaves the unseen list only once its state is written', async (t) => {
  const store = createPgStore(await testDatabase(t))
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  let eventsCommitted!: () => void
  let stateWaits!: () => void
  const waiting = new Promise<void>((resolve) => { stateWaits = resolve })
  const events = new Promise<void>((resolve) => { eventsCommitted = resolve })
  const { calls, unseen } = pgCallStores(store, async () => { stateWaits(); await events })
  unseen.addMissing([{ callid: 7, since: 1, after: 0 }])
  t.equal(await unseen.writes.flush(), true, 'the call is on the unseen list')
  // The model's publish(): the call's state handed over (its events not committed yet), then persisted().
  calls.write([{ callid: 7, chid: 'c7', state: { n: 1 } as never }], [])
  unseen.removeMissing([7])
  await waiting
  const where = async (): Promise<string> => {
    const [live, missing] = await Promise.all(['live_calls', 'unseen_calls'].map(async (table) => (await store.pool.query(`SELECT 1 FROM ${table} WHERE callid = 7`)).rowCount ?? 0))
    return live > 0 ? 'state' : missing > 0 ? 'unseen' : 'neither'
  }
  // As many round trips as a separate queue needs to commit the removal several times over.
  const seen = new Set<string>()
  for (let i = 0; i < 30; i++) seen.add(await where())
  t.same([...seen], ['unseen'], 'while the state waits for its events the call stays on the unseen list (never in neither table)')
  eventsCommitted()
  t.equal(await calls.writes.flush(), true)
  t.equal(await unseen.writes.flush(), true)
  t.equal(await where(), 'state', 'then the state is written and the call is off the list')
})
