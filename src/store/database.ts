// The gateway's one SQLite file under DATA_DIR (architecture.md "Storage ports": outbox, delivery
// log, call state, unseen calls, recordings index), opened in one place: pragmas, the integrity check
// at start-up, and the bookkeeping version (`PRAGMA user_version`) of `schema_versions`, which
// migrations.ts fills. A file written by a newer gateway is refused with a clear message.
//
// Durability: WAL with synchronous=NORMAL. A commit is in the WAL before the call returns, so a
// killed process (even kill -9) loses nothing; only an OS crash or power cut may lose the last few
// commits. FULL would fsync on every event and cap the outbox far below 1,000 events/s on ordinary
// disks, for a failure mode (power loss) the gateway's at-least-once contract does not promise.
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

export type SqliteDatabase = Database.Database

/** Version of the `schema_versions` bookkeeping (PRAGMA user_version). */
const BOOKKEEPING_VERSION = 1

/** The file (or one module's tables) was written by a newer gateway. */
export class DatabaseVersionError extends Error {
  override name = 'DatabaseVersionError'
}

/** The file is damaged (PRAGMA quick_check failed, or SQLite cannot read it as a database). */
export class DatabaseCorruptError extends Error {
  override name = 'DatabaseCorruptError'
}

export const DATABASE_FILE = 'gateway.db'

/** Opens (creating if needed) `<dataDir>/gateway.db` in WAL mode. */
export function openDatabase (dataDir: string, fileName = DATABASE_FILE): SqliteDatabase {
  fs.mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, fileName)
  let db: SqliteDatabase
  try {
    db = new Database(file)
  } catch (err) {
    throw corruptOr(err, file)
  }
  try {
    checkIntegrity(db, file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > BOOKKEEPING_VERSION) {
      throw new DatabaseVersionError(`${file} was written by a newer 3cx-gateway (database format ${version}, this version knows ${BOOKKEEPING_VERSION}); upgrade the gateway or point DATA_DIR at another folder`)
    }
    if (version < 1) {
      db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)')
      db.pragma(`user_version = ${BOOKKEEPING_VERSION}`)
    }
  } catch (err) {
    db.close()
    throw corruptOr(err, file)
  }
  return db
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB'])

function corruptMessage (file: string, detail: string): string {
  return `${file} is damaged (${detail}); the gateway does not start on it, since events written there could be lost. Stop the gateway, move the file (and any ${path.basename(file)}-wal, -shm beside it) aside, and start again: a new file is created (undelivered events in the old one are not sent)`
}

function corruptOr (err: unknown, file: string): unknown {
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && CORRUPT_CODES.has(code)) return new DatabaseCorruptError(corruptMessage(file, `${code}: ${(err as Error).message}`))
  return err
}

/**
 * PRAGMA quick_check at start-up: a damaged file is refused with a message naming it, instead of
 * losing events page by page at run time. It reads the whole file once (about a second per GB).
 */
function checkIntegrity (db: SqliteDatabase, file: string): void {
  const rows = db.pragma('quick_check(5)') as Array<{ quick_check: string }>
  if (rows.length === 1 && rows[0].quick_check === 'ok') return
  throw new DatabaseCorruptError(corruptMessage(file, `PRAGMA quick_check: ${rows.map((r) => r.quick_check).join('; ').replace(/\s+/g, ' ').slice(0, 300)}`))
}

/** What runs once the outermost transaction has committed, or rolled back. */
export interface CommitHook { committed: () => void, rolledBack: () => void }
const openTransactions = new WeakMap<SqliteDatabase, CommitHook[][]>()

/**
 * Runs `fn` in one transaction (a savepoint when nested) and, once the outermost one has committed
 * or rolled back, the hooks registered inside it with afterCommit(). The outbox uses this to tell
 * delivery about rows only once they are really on disk, and to keep events whose transaction a
 * failed write rolled back.
 */
export function atomically<T> (db: SqliteDatabase, fn: () => T): T {
  let stack = openTransactions.get(db)
  if (stack === undefined) {
    stack = []
    openTransactions.set(db, stack)
  }
  stack.push([])
  let hooks: CommitHook[] = []
  let result: T
  try {
    result = db.transaction(fn)()
  } catch (err) {
    hooks = stack.pop() ?? []
    for (const h of hooks) h.rolledBack()
    throw err
  }
  hooks = stack.pop() ?? []
  if (stack.length > 0) stack[stack.length - 1].push(...hooks) // a savepoint: the outer transaction decides
  else for (const h of hooks) h.committed()
  return result
}

/** Runs `hook.committed` now, or when the enclosing atomically() transaction commits (else `rolledBack`). */
export function afterCommit (db: SqliteDatabase, hook: CommitHook): void {
  const stack = openTransactions.get(db)
  if (stack === undefined || stack.length === 0) hook.committed()
  else stack[stack.length - 1].push(hook)
}
