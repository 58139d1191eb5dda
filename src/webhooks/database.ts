// The gateway's one SQLite file under DATA_DIR (architecture.md: outbox, delivery log, recordings
// index). Each module owns a named list of forward migrations; the applied count is kept per module
// in `schema_versions`, and `PRAGMA user_version` versions that bookkeeping itself. A file written by
// a newer gateway (a version this code does not know) is refused with a clear message.
//
// Durability: WAL with synchronous=NORMAL. A commit is in the WAL before the call returns, so a
// killed process (even kill -9) loses nothing; only an OS crash or power cut may lose the last few
// commits. FULL would fsync on every event and cap the outbox far below 1,000 events/s on ordinary
// disks, for a failure mode (power loss) the gateway's at-least-once contract does not promise.
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

export type SqliteDatabase = Database.Database
export type Migration = (db: SqliteDatabase) => void

/** Version of the `schema_versions` bookkeeping (PRAGMA user_version). */
const BOOKKEEPING_VERSION = 1

export class DatabaseVersionError extends Error {
  override name = 'DatabaseVersionError'
}

export const DATABASE_FILE = 'gateway.db'

/** Opens (creating if needed) `<dataDir>/gateway.db` in WAL mode. */
export function openDatabase (dataDir: string, fileName = DATABASE_FILE): SqliteDatabase {
  fs.mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, fileName)
  const db = new Database(file)
  try {
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
    throw err
  }
  return db
}

/**
 * Brings `module`'s tables up to date: runs migrations[applied…] each in a transaction.
 * Throws DatabaseVersionError when the file has more migrations applied than the code knows.
 */
export function migrate (db: SqliteDatabase, module: string, migrations: readonly Migration[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as { version: number } | undefined
  const applied = row?.version ?? 0
  if (applied > migrations.length) {
    throw new DatabaseVersionError(`${db.name}: the "${module}" tables are at schema version ${applied}, this 3cx-gateway knows only ${migrations.length}; upgrade the gateway or point DATA_DIR at another folder`)
  }
  const setVersion = db.prepare('INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version')
  for (let v = applied; v < migrations.length; v++) {
    db.transaction(() => {
      migrations[v](db)
      setVersion.run(module, v + 1)
    })()
  }
}
