// The PostgreSQL connection pool (DATABASE_URL; architecture.md "Storage ports"): one per gateway,
// shared by every PostgreSQL adapter, with the one StorageHealth they report failed writes to. A
// lost connection is an error event on the pool, not a crash: the next query reconnects.
import { createRequire } from 'node:module'
import type pg from 'pg'
import { StorageHealth } from '../../storage-health.js'
import { redactDatabaseUrl } from '../../database-url.js'

let loaded: typeof pg | null = null

/**
 * node-postgres, loaded when the first pool is made: a gateway on SQLite (demo mode, one PBX
 * without DATABASE_URL) never loads it, which saves its start-up tens of ms of CPU (issue 16).
 */
function pgModule (): typeof pg {
  if (loaded === null) {
    loaded = createRequire(import.meta.url)('pg') as typeof pg
    // BIGINT columns (ids, ms timestamps) come back as numbers: all of them stay below 2^53.
    loaded.types.setTypeParser(loaded.types.builtins.INT8, (v) => Number(v))
  }
  return loaded
}

export interface PgStore {
  pool: pg.Pool
  /** The schema the tables are in, when not the database's default one. */
  schema?: string
  /** The URL without its password (for messages). */
  name: string
  health: StorageHealth
  close: () => Promise<void>
}

export interface PgStoreOptions {
  /** Connections in the pool (default 10; DATABASE_POOL_MAX). */
  max?: number
  /** An idle connection is closed after this long (ms; default 10000), so idle tenants hold few. */
  idleMs?: number
  /** How long to wait for a connection (ms; default 5000). */
  connectTimeoutMs?: number
  settleMs?: number
  /** Every table of this store in this schema (a tenant's, `tenant_<id>`), through the connections' search_path. */
  schema?: string
}

export function createPgStore (url: string, opts: PgStoreOptions = {}): PgStore {
  const name = redactDatabaseUrl(url)
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max: opts.max ?? 10,
    idleTimeoutMillis: opts.idleMs ?? 10_000,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    application_name: '3cx-gateway',
    // Schema names are checked identifiers (tenants-file.ts), never free text.
    ...(opts.schema !== undefined ? { options: `-c search_path=${opts.schema}` } : {})
  })
  const health = new StorageHealth(name, { settleMs: opts.settleMs, remedy: 'check that the PostgreSQL server is running and reachable' })
  // An idle connection dropped by the server (restart, fail-over) must not end the process.
  pool.on('error', (err) => { health.failed('connection', err) })
  let closed: Promise<void> | null = null
  return { pool, name, health, ...(opts.schema !== undefined ? { schema: opts.schema } : {}), close: async () => { closed ??= pool.end(); await closed } }
}

/**
 * Runs `fn` on one connection of the pool. A connection lost while checked out emits an error
 * event besides failing its query; node-postgres would make that an uncaught exception (a crash)
 * without a listener, so one is attached while `fn` runs (the failed query reports the loss).
 */
export async function withClient<T> (pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect()
  const ignore = (): void => {}
  c.on('error', ignore)
  try {
    return await fn(c)
  } finally {
    c.removeListener('error', ignore)
    c.release()
  }
}

/** Runs `fn` in one transaction on one connection of the pool. */
export async function inTransaction<T> (pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return await withClient(pool, async (c) => {
    await c.query('BEGIN')
    try {
      const out = await fn(c)
      await c.query('COMMIT')
      return out
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      throw err
    }
  })
}
