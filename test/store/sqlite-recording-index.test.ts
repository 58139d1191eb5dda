// The recordings index's SQLite adapter: the behaviour table every adapter passes
// (recording-index-contract.ts; two "replicas" are two views of one file), and its one transaction.
import t from 'tap'
import { legKeyOf } from '../../src/recordings/recording-index.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { tempDir } from '../webhooks/helpers.js'
import { leg, recordingIndexContract } from './recording-index-contract.js'

recordingIndexContract(t, async (t) => {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { db.close() })
  return { open: async (consumer) => new SqliteRecordingIndex(db, consumer) }
})

t.test('atomically: writes made inside commit or roll back together', async (t) => {
  const index = SqliteRecordingIndex.open(tempDir(t))
  t.teardown(() => { index.close() })
  const l = leg(1, 1000)
  t.throws(() => index.atomically(() => {
    index.addLeg(l, 1000)
    throw new Error('after the write')
  }), /after the write/)
  t.equal(index.leg(legKeyOf(l)), undefined, 'rolled back')
  index.atomically(() => { index.addLeg(l, 1000) })
  t.equal(index.leg(legKeyOf(l))?.state, 'waiting')
})
