// The unseen-calls bookkeeping's SQLite adapter (calls/call-ports.ts is the port, calls/unseen-calls.ts
// its user): the highest callid seen and the calls in gaps below it, in the `calls` module's tables.
import type { MissingCall, SavedUnseenCalls, UnseenCallStore } from '../calls/call-ports.js'
import { DeferredWrites, storageHealthOf } from '../storage-health.js'
import type { SqliteDatabase } from './database.js'
import { migrate } from './migrations.js'
import { CALL_STATE_MIGRATIONS } from './sqlite-call-state.js'

export class SqliteUnseenCallStore implements UnseenCallStore {
  private readonly stmt
  /** Never throws on a full disk: writes wait in order and are retried with the next one. */
  private readonly writes: DeferredWrites

  constructor (private readonly db: SqliteDatabase) {
    migrate(db, 'calls', CALL_STATE_MIGRATIONS)
    this.writes = new DeferredWrites(storageHealthOf(db), 'unseen calls')
    this.stmt = {
      counter: db.prepare('SELECT highest, seen_at FROM call_counter WHERE id = 1'),
      missing: db.prepare('SELECT callid, since, after FROM unseen_calls ORDER BY callid'),
      saveHighest: db.prepare('INSERT INTO call_counter (id, highest, seen_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET highest = excluded.highest, seen_at = excluded.seen_at'),
      add: db.prepare('INSERT OR IGNORE INTO unseen_calls (callid, since, after) VALUES (?, ?, ?)'),
      remove: db.prepare('DELETE FROM unseen_calls WHERE callid = ?')
    }
  }

  async load (): Promise<SavedUnseenCalls> {
    const c = this.stmt.counter.get() as { highest: number, seen_at: number } | undefined
    return { highest: c?.highest ?? null, highestAt: c?.seen_at ?? null, missing: this.stmt.missing.all() as MissingCall[] }
  }

  saveHighest (callid: number, at: number): void {
    this.writes.run(() => { this.stmt.saveHighest.run(callid, at) })
  }

  addMissing (calls: readonly MissingCall[]): void {
    const rows = [...calls]
    this.writes.run(() => { this.db.transaction(() => { for (const m of rows) this.stmt.add.run(m.callid, m.since, m.after) })() })
  }

  removeMissing (ids: readonly number[]): void {
    const rows = [...ids]
    this.writes.run(() => { this.db.transaction(() => { for (const id of rows) this.stmt.remove.run(id) })() })
  }
}
