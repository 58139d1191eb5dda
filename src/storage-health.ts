// Whether gateway.db can be written, as seen by everything that writes it (outbox, delivery log, call
// state, unseen calls, recordings index, pruning). A failed write (disk full, I/O error, a corrupt
// file) must not end the process: the writer reports it here and keeps its data to write again
// later; /readyz turns unready naming the file, the log says so once per change, and /metrics counts
// the failures. The problem clears once writes succeed and none has failed for `settleMs` (2 s): a
// disk with a few free pages lets one small write through between failures, and /readyz must not
// flap ready/unready with it.

export interface StorageLog {
  error: (obj: unknown, msg?: string) => void
  info: (obj: unknown, msg?: string) => void
}

/** SQLite result codes that mean "the file cannot be written or read", not "this statement is wrong". */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|CORRUPT|NOTADB|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/

/** A SqliteError, node fs error or PostgreSQL error caused by the disk, the file or the database server rather than by the code. */
export function isStorageError (err: unknown): boolean {
  if (isPgStorageError(err)) return true
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return false
  return STORAGE_CODES.test(code) || code === 'ENOSPC' || code === 'EIO' || code === 'EROFS'
}

// PostgreSQL (DATABASE_URL): the database cannot be reached or written, as opposed to a wrong statement.
/** SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator intervention, 58 system error. */
const STORAGE_SQLSTATE = /^(08|53|57|58)/
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
/** Messages node-postgres gives to a connection it lost or could not open in time. */
const LOST = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|pool after calling end/i

export function isPgStorageError (err: unknown): boolean {
  const e = err as { code?: unknown, message?: unknown } | null
  if (e === null || typeof e !== 'object') return false
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || (e.code.length === 5 && STORAGE_SQLSTATE.test(e.code)) || e.code === '25006')) return true
  return typeof e.message === 'string' && LOST.test(e.message)
}

function describe (err: unknown): string {
  const e = err as { code?: string, message?: string }
  return `${e.code !== undefined ? e.code + ': ' : ''}${e.message ?? String(err)}`.slice(0, 300)
}

export interface StorageProblem {
  /** Which writer failed first in this stretch (outbox, delivery log, call state, …). */
  where: string
  error: string
  since: number
  /** Failed writes since `since`. */
  failures: number
}

export interface StorageHealthOptions {
  now?: () => number
  /** How long without a failed write before a write that succeeds clears the problem (ms; default 2000). */
  settleMs?: number
  /** What to do about a failed write, ending the /readyz sentence (default: about the disk and the file). */
  remedy?: string
}

export const DEFAULT_SETTLE_MS = 2000

export class StorageHealth {
  log: StorageLog | undefined
  settleMs: number
  /** Failed writes per writer since start (for /metrics). */
  readonly failures = new Map<string, number>()
  private current: StorageProblem | null = null
  /** A damaged file stays damaged: a later write that happens to work does not clear it. */
  private damaged: StorageProblem | null = null
  private lastFailure = 0
  /** The first write that succeeded since the last failure (null: none yet). */
  private succeededSince: number | null = null
  private readonly now: () => number
  private readonly remedy: string

  constructor (readonly file: string, opts: StorageHealthOptions = {}) {
    this.now = opts.now ?? Date.now
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS
    this.remedy = opts.remedy ?? 'free disk space or fix the file'
  }

  get problem (): StorageProblem | null {
    this.settle()
    return this.damaged ?? this.current
  }

  /** A write by `where` failed with `err` (a storage error: see isStorageError). */
  failed (where: string, err: unknown): void {
    this.failures.set(where, (this.failures.get(where) ?? 0) + 1)
    this.lastFailure = this.now()
    this.succeededSince = null
    const code = (err as { code?: unknown } | null)?.code
    if (this.damaged === null && (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB')) {
      this.damaged = { where, error: describe(err), since: this.now(), failures: 1 }
      this.log?.error({ file: this.file, store: where, err: this.damaged.error }, `${this.file} is damaged (${this.damaged.error}); /readyz stays unready: stop the gateway and move the file aside (see docs/operating.md)`)
    }
    if (this.current !== null) {
      this.current.failures++
      return
    }
    this.current = { where, error: describe(err), since: this.now(), failures: 1 }
    this.log?.error({ file: this.file, store: where, err: this.current.error }, `writing ${this.file} failed (${this.current.error}); the gateway keeps what it could not write in memory and retries; /readyz is unready until a write succeeds`)
  }

  /** A write succeeded: the file is writable again once no write has failed for settleMs. */
  ok (): void {
    if (this.current === null) return
    this.succeededSince ??= this.now()
    this.settle()
  }

  private settle (): void {
    const p = this.current
    if (p === null || this.succeededSince === null || this.now() - this.lastFailure < this.settleMs) return
    this.current = null
    this.succeededSince = null
    this.log?.info({ file: this.file, failures: p.failures, downMs: this.now() - p.since }, `writing ${this.file} works again after ${p.failures} failed writes`)
  }

  /** For /readyz: null when fine, else a sentence naming the file and the error. */
  readiness (): string | null {
    const d = this.damaged
    if (d !== null) return `${this.file} is damaged since ${new Date(d.since).toISOString()} (${d.error}, found by the ${d.where}); stop the gateway and move the file aside`
    this.settle()
    const p = this.current
    if (p === null) return null
    return `cannot write ${this.file} since ${new Date(p.since).toISOString()} (${p.error}; ${p.failures} failed writes, first by the ${p.where}); ${this.remedy}`
  }

  /**
   * Runs a write; a storage error is reported and returned as false instead of thrown (any other
   * error is a bug and is thrown).
   */
  attempt (where: string, write: () => void): boolean {
    try {
      write()
    } catch (err) {
      if (!isStorageError(err)) throw err
      this.failed(where, err)
      return false
    }
    this.ok()
    return true
  }
}

const byDatabase = new WeakMap<object, StorageHealth>()

/**
 * The one StorageHealth of a database connection (created on first use), shared by its writers.
 * `settleMs`, when given, sets its settle time (tests use 0: recovered at the first good write).
 */
export function storageHealthOf (db: { name: string }, opts: { settleMs?: number } = {}): StorageHealth {
  let h = byDatabase.get(db)
  if (h === undefined) {
    h = new StorageHealth(db.name, opts)
    byDatabase.set(db, h)
  }
  if (opts.settleMs !== undefined) h.settleMs = opts.settleMs
  return h
}

/**
 * Writes that may be retried later, in order: while one is waiting, later ones queue behind it so
 * that an old write never lands after a newer one. Bounded: past `max` the oldest is dropped and
 * reported (the caller's data then rests on its in-memory copy).
 */
export class DeferredWrites {
  private readonly queue: Array<() => void> = []
  dropped = 0

  constructor (private readonly health: StorageHealth, private readonly where: string, private readonly max = 100_000) {}

  get size (): number {
    return this.queue.length
  }

  run (write: () => void): void {
    if (this.queue.length > 0) {
      this.queue.push(write)
      if (this.queue.length > this.max) {
        this.queue.shift()
        this.dropped++
      }
      this.flush()
      return
    }
    if (!this.health.attempt(this.where, write)) this.queue.push(write)
  }

  /** Writes what waits, oldest first; stops at the first that fails again. */
  flush (): void {
    while (this.queue.length > 0) {
      if (!this.health.attempt(this.where, this.queue[0])) return
      this.queue.shift()
    }
  }
}
