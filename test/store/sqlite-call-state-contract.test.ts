import t from 'tap'
import { openDatabase } from '../../src/store/database.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import { SqliteUnseenCallStore } from '../../src/store/sqlite-unseen-calls.js'
import { SqliteStateOrigin } from '../../src/store/sqlite-state-origin.js'
import { tempDir } from '../webhooks/helpers.js'
import { callStateContract } from './call-state-contract.js'

callStateContract(t, async (t) => {
  const dir = tempDir(t)
  return {
    open: async () => {
      const db = openDatabase(dir)
      t.teardown(() => { db.close() })
      return { calls: new SqliteCallStateStore(db), unseen: new SqliteUnseenCallStore(db), origin: new SqliteStateOrigin(db), flush: async () => {} }
    }
  }
})
