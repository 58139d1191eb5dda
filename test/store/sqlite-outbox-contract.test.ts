import t from 'tap'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { tempDir } from '../webhooks/helpers.js'
import { outboxContract } from './outbox-contract.js'

outboxContract(t, async (t, targets, now) => {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { db.close() })
  return new SqliteOutbox(db, { targets, now })
})
