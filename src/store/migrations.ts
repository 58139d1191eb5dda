// Forward-only schema migrations per module (outbox, calls, recordings, state origin): each owns a
// named list; the count applied is kept per module in `schema_versions` (created by database.ts).
import { DatabaseVersionError, type SqliteDatabase } from './database.js'

export type Migration = (db: SqliteDatabase) => void

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
