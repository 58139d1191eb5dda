// The live call model's state on disk (the `calls` module of the gateway's SQLite file): one row per
// call in progress with its chid and its tracker state (call-tracker-state.ts). A state that goes
// with emitted events is written inside the same transaction as their outbox rows (the outbox uses
// the same connection, so its transaction nests as a savepoint): after a kill -9 the file never says
// "announced" for an event that is not in the outbox, nor the reverse. Other changes are batched.
import { atomically, type SqliteDatabase } from '../store/database.js'
import { migrate, type Migration } from '../store/migrations.js'
import { DeferredWrites, isStorageError, storageHealthOf } from '../storage-health.js'
import type { CallTrackerState } from './call-tracker-state.js'
import type { MissingCall, UnseenCallStore } from './unseen-calls.js'

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

export interface StoredCall {
  callid: number
  chid: string
  state: CallTrackerState
}

/** What the call model needs to persist its calls. */
export interface CallStateStore {
  loadAll(): StoredCall[]
  /** Upserts and deletes, in one transaction (or in the caller's). */
  write(save: readonly StoredCall[], remove: readonly number[]): void
  /** Runs `fn` in one transaction: the outbox inserts it makes and write() commit together. */
  atomically<T>(fn: () => T): T
}

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

  loadAll (): StoredCall[] {
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

/** The unseen-calls bookkeeping in the same file (the `calls` module's tables). */
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

  load (): { highest: number | null, highestAt: number | null, missing: MissingCall[] } {
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
