// Upgrading a gateway on PostgreSQL whose recordings index was still in DATA_DIR/gateway.db: at start
// the rows move into PostgreSQL, so the links of webhooks sent before keep working on every replica.
import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgRecordingIndex } from '../../../src/store/pg/pg-recording-index.js'
import { moveSqliteRecordings } from '../../../src/store/pg/pg-recordings-move.js'
import { SqliteRecordingIndex } from '../../../src/store/sqlite-recording-index.js'
import { legKeyOf } from '../../../src/recordings/recording-index.js'
import { tempDir } from '../../webhooks/helpers.js'
import { leg } from '../recording-index-contract.js'
import { testDatabase } from './pg-test-db.js'

t.test('the SQLite recordings index moves into PostgreSQL once; its links resolve there', async (t) => {
  const store = createPgStore(await testDatabase(t))
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  const local = SqliteRecordingIndex.open(tempDir(t))
  t.teardown(() => { local.close() })
  const done = { ...leg(1, 1000), endedEvent: { event: 'incoming', duration: 5 }, callerName: 'Tom' }
  local.addLeg(done, 1000)
  const [rec] = local.settleLeg(legKeyOf(done), [{ sourceRef: 'dir:/r/1.wav', recordedAt: 1000.25, wavPath: '/r/1.wav', xapiId: null }])
  local.markConverted(rec.id, 4000, 1200)
  local.announce(rec.legKey, () => {}, 1300)
  local.addLeg(leg(2, 2000), 2000)

  t.same(await moveSqliteRecordings(local.db, store), { legs: 2, recordings: 1 })
  const shared = new PgRecordingIndex(store, 'replica-a')
  t.match(await shared.byToken(rec.token, rec.fileName), { fileName: rec.fileName, bytes: 4000, state: 'done', recordedAt: 1000 })
  t.match(await shared.leg(rec.legKey), { state: 'announced', participantIds: [1], endedEvent: { event: 'incoming', duration: 5 }, callerName: 'Tom' })
  t.same((await shared.legsIn('waiting')).map((l) => l.callid), [2], 'a leg still waiting waits in PostgreSQL')
  t.same(local.legsIn('waiting'), [], 'moved, not copied')
  t.equal(local.byToken(rec.token, rec.fileName), undefined)
  t.same(await moveSqliteRecordings(local.db, store), { legs: 0, recordings: 0 }, 'a second start moves nothing')
})
