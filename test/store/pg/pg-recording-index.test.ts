// The recordings index on PostgreSQL: the behaviour table every adapter passes
// (recording-index-contract.ts), here with two replicas' connections on one database; and the order
// of an announcement and its event, which are two commits on PostgreSQL.
import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgRecordingIndex } from '../../../src/store/pg/pg-recording-index.js'
import { legKeyOf } from '../../../src/recordings/recording-index.js'
import { leg, recordingIndexContract } from '../recording-index-contract.js'
import { testDatabase } from './pg-test-db.js'

recordingIndexContract(t, async (t) => {
  const url = await testDatabase(t)
  let migrated = false
  return {
    open: async (consumer) => {
      const store = createPgStore(url)
      t.teardown(store.close)
      if (!migrated) { await migratePg(store.pool, store.name); migrated = true }
      return new PgRecordingIndex(store, consumer)
    }
  }
})

t.test('an announcement whose event was not committed leaves the leg to be announced again (never marked without its event)', async (t) => {
  const store = createPgStore(await testDatabase(t))
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  let outboxUp = false
  const index = new PgRecordingIndex(store, 'replica-a', async () => { if (!outboxUp) throw new Error('the outbox could not commit') })
  const l = leg(1, 1000)
  await index.addLeg(l)
  const [rec] = await index.settleLeg(legKeyOf(l), [{ sourceRef: 'xapi:1', recordedAt: 1000, wavPath: null, xapiId: 1 }])
  await index.markConverted(rec.id, 10)
  const sent: number[] = []
  await t.rejects(index.announce(rec.legKey, () => { sent.push(1) }), /could not commit/)
  t.equal((await index.leg(rec.legKey))?.state, 'converting', 'still to announce')
  outboxUp = true
  t.equal(await index.announce(rec.legKey, () => { sent.push(2) }), true)
  t.same(sent, [1, 2], 'handed over again: at-least-once')
  t.equal((await index.leg(rec.legKey))?.state, 'announced')
})
