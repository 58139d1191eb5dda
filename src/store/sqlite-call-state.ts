// The live call state's SQLite adapter (calls/call-ports.ts is the port; the `calls` module of the
// gateway's SQLite file): one row per call in progress with its chid and its tracker state (calls/derivation/tracker-state.ts). A state that goes
// with emitted events is written inside the same transaction as their outbox rows (the outbox uses
// the same connection, so its transaction nests as a savepoint): after a kill -9 the file never says
// "announced" for an event that is not in the outbox, nor the reverse. Other changes are batched.
import type { CallStateStore, StoredCall } from '../calls/call-ports.js'
import type { CallTrackerState } from '../calls/derivation/tracker-state.js'
import { isStorageError, storageHealthOf, type StorageHealth } from '../storage-health.js'
import { afterCommit, atomically, type SqliteDatabase } from './database.js'
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

export interface SqliteCallStateOptions {
  now?: () => number
  /** How often states that could not be written are tried again (ms; default 1000). */
  retryMs?: number
}

export class SqliteCallStateStore implements CallStateStore {
  private readonly stmt
  private readonly now: () => number
  private readonly health: StorageHealth
  /**
   * States not on disk yet because a write failed (a full disk): the latest per call (null: delete
   * it), written before anything newer and retried every retryMs until the file takes them.
   */
  private readonly waiting = new Map<number, StoredCall | null>()
  private retryTimer: NodeJS.Timeout | null = null

  constructor (private readonly db: SqliteDatabase, private readonly opts: SqliteCallStateOptions = {}) {
    migrate(db, 'calls', CALL_STATE_MIGRATIONS)
    this.now = opts.now ?? Date.now
    this.health = storageHealthOf(db)
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

  /** States kept in memory because the file could not take them. */
  get waitingCount (): number {
    return this.waiting.size
  }

  write (save: readonly StoredCall[], remove: readonly number[]): boolean {
    if (save.length === 0 && remove.length === 0 && this.waiting.size === 0) return true
    for (const c of save) this.waiting.set(c.callid, c)
    for (const id of remove) this.waiting.set(id, null)
    return this.writeWaiting()
  }

  atomically<T>(fn: () => T): T {
    // With commit hooks: outbox rows written inside are held in memory if this rolls back.
    return atomically(this.db, fn)
  }

  /** Writes every waiting state in one transaction; on a storage error keeps them and retries later. */
  private writeWaiting (): boolean {
    const rows = [...this.waiting]
    const at = this.now()
    try {
      this.atomically(() => {
        for (const [id, c] of rows) {
          if (c === null) this.stmt.delete.run(id)
          else this.stmt.upsert.run(id, c.chid, JSON.stringify(c.state), at)
        }
      })
    } catch (err) {
      if (!isStorageError(err)) throw err
      // The disk problem goes to /readyz, the log and /metrics; the states wait here.
      this.health.failed('call state', err)
      this.retryLater()
      return false
    }
    for (const [id, c] of rows) if (this.waiting.get(id) === c) this.waiting.delete(id)
    // Inside the caller's transaction the rows are only safe once it commits: a rollback puts them back.
    afterCommit(this.db, {
      committed: () => { this.health.ok() },
      rolledBack: () => {
        for (const [id, c] of rows) if (!this.waiting.has(id)) this.waiting.set(id, c)
        this.retryLater()
      }
    })
    return true
  }

  private retryLater (): void {
    if (this.retryTimer !== null) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      // A closed file (the gateway stopping) ends the retries; what waits is lost with the process.
      if (this.db.open && this.waiting.size > 0) this.writeWaiting()
    }, this.opts.retryMs ?? 1000)
    this.retryTimer.unref()
  }
}
