// The replica registry on PostgreSQL (replicas/replica-registry.ts is the port): one `replicas` row
// per gateway process in the database's default schema (beside the tenants' schemas), renewed on
// every heartbeat for ttlMs on the database's clock (clock_timestamp()), so replicas whose clocks
// disagree still agree on who is alive. In the first ttlMs after the server started (a restart)
// every row counts as live: the replicas have had no chance to renew yet, and reading them as dead
// would move every tenant at once. Rows dead for an hour are removed.
import type { ReplicaRegistry } from '../../replicas/replica-registry.js'
import { createPgStore, type PgStore } from './pg-pool.js'

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS replicas (
    id TEXT PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL, seen_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`

const BEAT = `
  INSERT INTO replicas (id, started_at, seen_at, expires_at) VALUES ($1, clock_timestamp(), clock_timestamp(), clock_timestamp() + $2 * interval '1 millisecond')
  ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at`

const LIVE = `
  SELECT id FROM replicas
  WHERE expires_at > clock_timestamp() OR pg_postmaster_start_time() > clock_timestamp() - $1 * interval '1 millisecond'
  ORDER BY id`

export interface PgReplicaRegistryOptions {
  replica: string
  /** How long a heartbeat keeps a replica live (ms; default 4000: a dead replica leaves the list before its 5 s leases run out, so the designated replicas take them as they do). */
  ttlMs?: number
}

export class PgReplicaRegistry implements ReplicaRegistry {
  readonly replica: string
  private readonly ttlMs: number
  private beats = 0

  constructor (private readonly store: PgStore, opts: PgReplicaRegistryOptions) {
    this.replica = opts.replica
    this.ttlMs = opts.ttlMs ?? 4000
  }

  async heartbeat (): Promise<string[]> {
    await this.store.pool.query(BEAT, [this.replica, this.ttlMs])
    if (this.beats++ % 600 === 0) await this.store.pool.query("DELETE FROM replicas WHERE expires_at < clock_timestamp() - interval '1 hour'")
    return (await this.store.pool.query<{ id: string }>(LIVE, [this.ttlMs])).rows.map((r) => r.id)
  }

  async leave (): Promise<void> {
    await this.store.pool.query('DELETE FROM replicas WHERE id = $1', [this.replica])
  }

  async close (): Promise<void> {
    await this.store.close()
  }
}

/** The registry of DATABASE_URL (its own small pool, no tenant schema); the table is made if missing. */
export async function openPgReplicaRegistry (url: string, opts: PgReplicaRegistryOptions): Promise<PgReplicaRegistry> {
  const store = createPgStore(url, { max: 2 })
  try {
    // Replicas starting together: one creates the table, the others wait for it (a transaction-scoped lock).
    await store.pool.query(`BEGIN; SELECT pg_advisory_xact_lock(${0x33637872}); ${SCHEMA}; COMMIT`)
  } catch (err) {
    await store.close()
    throw new Error(`cannot use the replicas table in ${store.name} (${err instanceof Error ? err.message : String(err)}); check DATABASE_URL and that the PostgreSQL server is running`)
  }
  return new PgReplicaRegistry(store, opts)
}
