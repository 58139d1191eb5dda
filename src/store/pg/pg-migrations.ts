// The PostgreSQL schema, migrated at start-up: one forward-only list (the same tables as the SQLite
// adapters, with jsonb payloads), each step in its own transaction and counted in
// `schema_migrations`. Several gateways starting at once take turns through an advisory lock, so a
// step never runs twice; a database migrated by a newer gateway is refused.
import type pg from 'pg'
import { DatabaseVersionError } from '../database.js'
import { withClient } from './pg-pool.js'

/** pg_advisory_lock key of the migrations (any constant; "3cxg" in ASCII). */
export const MIGRATION_LOCK = 0x33637867

export interface PgMigration { name: string, sql: string }

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    name: 'outbox',
    sql: `
      CREATE TABLE webhook_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        chain TEXT NOT NULL,
        payload JSONB NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id BIGINT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
        target TEXT NOT NULL,
        chain TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        -- Which consumer is sending it, until when (claim()): another consumer leaves it alone.
        claimed_by TEXT,
        claimed_until BIGINT
      );
      CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (target, chain, id) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id);
      CREATE TABLE webhook_attempts (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        at BIGINT NOT NULL,
        status_code INTEGER,
        duration_ms INTEGER NOT NULL,
        error TEXT,
        excerpt TEXT
      );
      CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
      CREATE TABLE webhook_targets (name TEXT PRIMARY KEY, disabled_at BIGINT, reason TEXT);`
  },
  {
    name: 'calls',
    sql: `
      CREATE TABLE live_calls (callid BIGINT PRIMARY KEY, chid TEXT NOT NULL, state JSONB NOT NULL, updated_at BIGINT NOT NULL);
      CREATE TABLE call_counter (id INTEGER PRIMARY KEY CHECK (id = 1), highest BIGINT NOT NULL, seen_at BIGINT NOT NULL);
      CREATE TABLE unseen_calls (callid BIGINT PRIMARY KEY, since BIGINT NOT NULL, after BIGINT NOT NULL);`
  },
  {
    name: 'meta',
    sql: 'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);'
  },
  {
    // Replicas (pg-stream-lease.ts, pg-shared-token.ts, pg-live-views.ts): who holds each PBX's event
    // stream, the access token it shares, and the live views it publishes for the standbys.
    name: 'replicas',
    sql: `
      CREATE TABLE stream_leases (
        pbx_id TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        acquired_at TIMESTAMPTZ NOT NULL,
        renewed_at TIMESTAMPTZ NOT NULL,
        access_token TEXT,
        token_expires_at BIGINT
      );
      CREATE TABLE live_views (pbx_id TEXT NOT NULL, name TEXT NOT NULL, body JSONB NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (pbx_id, name));`
  },
  {
    // The recordings index (pg-recording-index.ts), shared by replicas: a conversion is claimed
    // (claimed_by, claimed_until on the database's clock) so it runs on one replica at a time.
    name: 'recordings',
    sql: `
      CREATE TABLE recording_legs (
        leg_key TEXT PRIMARY KEY,
        callid BIGINT NOT NULL,
        chid TEXT NOT NULL,
        legacy_id TEXT NOT NULL,
        dn TEXT NOT NULL,
        participant_ids JSONB NOT NULL,
        started_at BIGINT NOT NULL,
        ended_at BIGINT NOT NULL,
        caller_name TEXT,
        ended_event JSONB,
        state TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        announced_at BIGINT
      );
      CREATE INDEX recording_legs_state ON recording_legs (state);
      CREATE TABLE recordings (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        leg_key TEXT NOT NULL REFERENCES recording_legs(leg_key),
        source_ref TEXT NOT NULL UNIQUE,
        seq INTEGER NOT NULL,
        file_name TEXT NOT NULL UNIQUE,
        token TEXT NOT NULL UNIQUE,
        wav_path TEXT,
        xapi_id BIGINT,
        recorded_at BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
        error TEXT,
        bytes BIGINT,
        converted_at BIGINT,
        claimed_by TEXT,
        claimed_until TIMESTAMPTZ
      );
      CREATE INDEX recordings_leg ON recordings (leg_key);
      CREATE INDEX recordings_pending ON recordings (id) WHERE state = 'pending';
      CREATE INDEX recordings_recorded_at ON recordings (recorded_at);
      CREATE INDEX recordings_xapi_id ON recordings (xapi_id);`
  },
  {
    name: 'key-request-windows',
    // The per-key request limit shared by the replicas (store/pg/pg-key-windows.ts).
    sql: `
      CREATE TABLE key_request_windows (
        key_id TEXT NOT NULL,
        window_start BIGINT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (key_id, window_start)
      );`
  },
  {
    name: 'call-id-requests',
    // makecall on a standby asks the holder for the call's ids (store/pg/pg-call-ids.ts).
    sql: `
      CREATE TABLE call_id_requests (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        pbx_id TEXT NOT NULL,
        callid BIGINT NOT NULL,
        at BIGINT NOT NULL,
        chid TEXT,
        legacy_id TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE INDEX call_id_requests_open ON call_id_requests (pbx_id, id) WHERE chid IS NULL;`
  }
]

/** Brings the database up to date; returns how many steps this call applied. */
export async function migratePg (pool: pg.Pool, name: string, migrations: readonly PgMigration[] = PG_MIGRATIONS, schema?: string): Promise<number> {
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    throw new Error(`cannot reach ${name} at start (${err instanceof Error ? err.message : String(err)}); check DATABASE_URL and that the PostgreSQL server is running and reachable`)
  }
  return await withClient(pool, async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
      // A tenant's schema (the pool's search_path names it): made here, under the lock, before its tables.
      if (schema !== undefined) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())')
      const applied = Number((await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0].v ?? 0)
      if (applied > migrations.length) {
        throw new DatabaseVersionError(`${name} was migrated by a newer 3cx-gateway (schema version ${applied}, this version knows ${migrations.length}); upgrade the gateway or point DATABASE_URL at another database`)
      }
      for (let v = applied; v < migrations.length; v++) {
        await c.query('BEGIN')
        try {
          await c.query(migrations[v].sql)
          await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [v + 1, migrations[v].name])
          await c.query('COMMIT')
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {})
          throw err
        }
      }
      return migrations.length - applied
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    }
  })
}
