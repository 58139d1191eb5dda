// A full disk, for real: with max_page_count capped at the file's size, SQLite refuses every write
// that needs another page with SQLITE_FULL.
import type { SqliteDatabase } from '../../src/store/database.js'

export function fillDisk (db: SqliteDatabase): void {
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
}

export function freeDisk (db: SqliteDatabase): void {
  db.pragma('max_page_count = 1073741823')
}
