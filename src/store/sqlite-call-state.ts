// The live call state's SQLite adapter (calls/call-ports.ts is the port; the `calls` module of the
// gateway's SQLite file): one row per call in progress with its chid and its tracker state (call-tracker-state.ts). A state that goes
// with emitted events is written inside the same transaction as their outbox rows (the outbox uses
// the same connection, so its transaction nests as a savepoint): after a kill -9 the file never says
// "announced" for an event that is not in the outbox, nor the reverse. Other changes are batched.
import type { CallStateStore, StoredCall } from '../calls/call-ports.js'
import type { CallTrackerState } from '../calls/call-tracker-state.js'
import { isStorageError, storageHealthOf } from '../storage-health.js'
import { atomically, type SqliteDatabase } from './database.js'
import { migrate, type Migration } from './migrations.js'

/** The `calls` module's tables: live calls, and the unseen-calls bookkeeping (sqlite-unseen-calls.ts). */
export const CALL_STATE_MIGRATIONS: readonly Migration[] = [
  (db) => db.exec(`
    CREATE TABLE live_calls (
      callid INTEGER PRIMARY KEY,
      chid TEXT NOT NULL,
      state TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );
  `),
  // unseen-calls.ts: the highest callid seen, and the calls in gaps below it not yet recovered.
  (db) => db.exec(`
    CREATE TABLE call_counter (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      highest INTEGER NOT NULL,
      seen_at INTEGER NOT NULL
    );
    CREATE TABLE unseen_calls (
      callid INTEGER PRIMARY KEY,
      since INTEGER NOT NULL,
      after INTEGER NOT NULL
    );
  `)
]

export class SqliteCallStateStore implements CallStateStore {
  private readonly stmt

  constructor (private readonly db: SqliteDatabase, private readonly now: () => number = Date.now) {
    migrate(db, 'calls', CALL_STATE_MIGRATIONS)
    this.stmt = {
      all: db.prepare('SELECT callid, chid, state FROM live_calls ORDER BY callid'),
      upsert: db.prepare('INSERT INTO live_calls (callid, chid, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(callid) DO UPDATE SET chid = excluded.chid, state = excluded.state, updated_at = excluded.updated_at'),
      delete: db.prepare('DELETE FROM live_calls WHERE callid = ?')
    }
  }

  async loadAll (): Promise<StoredCall[]> {
    const out: StoredCall[] = []
    for (const r of this.stmt.all.all() as Array<{ callid: number, chid: string, state: string }>) {
      try {
        out.push({ callid: r.callid, chid: r.chid, state: JSON.parse(r.state) as CallTrackerState })
      } catch {
        // An unreadable row is dropped: the call is then treated as new when the snapshot shows it.
      }
    }
    return out
  }

  write (save: readonly StoredCall[], remove: readonly number[]): void {
    if (save.length === 0 && remove.length === 0) return
    const at = this.now()
    try {
      this.atomically(() => {
        for (const c of save) this.stmt.upsert.run(c.callid, c.chid, JSON.stringify(c.state), at)
        for (const id of remove) this.stmt.delete.run(id)
      })
    } catch (err) {
      // The caller logs it; the disk problem goes to /readyz and /metrics too.
      if (isStorageError(err)) storageHealthOf(this.db).failed('call state', err)
      throw err
    }
  }

  atomically<T>(fn: () => T): T {
    // With commit hooks: outbox rows written inside are held in memory if this rolls back.
    return atomically(this.db, fn)
  }
}
