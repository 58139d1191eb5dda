// Recordings indexed before the index moved to PostgreSQL (each replica's DATA_DIR/gateway.db) are
// moved into it at start, so the links of webhooks sent earlier keep working on every replica (their
// MP3s must be copied into the shared MP3_DIR: docs/operating.md). Moved, not copied: a second start
// finds nothing; a crash between the two commits moves the same rows again, which changes nothing.
import type { SqliteDatabase } from '../database.js'
import { migrate } from '../migrations.js'
import { RECORDINGS_MIGRATIONS } from '../sqlite-recording-index.js'
import { inTransaction, type PgStore } from './pg-pool.js'

const LEG_COLUMNS = 'leg_key text, callid bigint, chid text, legacy_id text, dn text, participant_ids text, started_at bigint, ended_at bigint, caller_name text, ended_event text, state text, created_at bigint, announced_at bigint'
const RECORDING_COLUMNS = 'leg_key text, source_ref text, seq integer, file_name text, token text, wav_path text, xapi_id bigint, recorded_at double precision, state text, error text, bytes bigint, converted_at bigint'

const names = (columns: string): string => columns.split(', ').map((c) => c.split(' ')[0]).join(', ')

export async function moveSqliteRecordings (db: SqliteDatabase, store: PgStore): Promise<{ legs: number, recordings: number }> {
  const none = { legs: 0, recordings: 0 }
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'recordings'").get() === undefined) return none
  migrate(db, 'recordings', RECORDINGS_MIGRATIONS) // tables of an older version get the columns read below
  const legs = db.prepare(`SELECT ${names(LEG_COLUMNS)} FROM recording_legs`).all()
  if (legs.length === 0) return none
  const recordings = db.prepare(`SELECT ${names(RECORDING_COLUMNS)} FROM recordings ORDER BY id`).all()
  // One statement per table: a month of recordings is one round trip, not one per row.
  const moved = await inTransaction(store.pool, async (c) => ({
    legs: (await c.query(`INSERT INTO recording_legs (${names(LEG_COLUMNS)})
      SELECT leg_key, callid, chid, legacy_id, dn, participant_ids::jsonb, started_at, ended_at, caller_name, ended_event::jsonb, state, created_at, announced_at
      FROM jsonb_to_recordset($1::jsonb) AS x(${LEG_COLUMNS}) ON CONFLICT (leg_key) DO NOTHING`, [JSON.stringify(legs)])).rowCount ?? 0,
    recordings: (await c.query(`INSERT INTO recordings (${names(RECORDING_COLUMNS)})
      SELECT leg_key, source_ref, seq, file_name, token, wav_path, xapi_id, round(recorded_at)::bigint, state, error, bytes, converted_at
      FROM jsonb_to_recordset($1::jsonb) AS x(${RECORDING_COLUMNS}) ON CONFLICT DO NOTHING`, [JSON.stringify(recordings)])).rowCount ?? 0
  }))
  db.transaction(() => {
    db.prepare('DELETE FROM recordings').run()
    db.prepare('DELETE FROM recording_legs').run()
  })()
  return moved
}
