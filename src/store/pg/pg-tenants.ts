// The tenants table on PostgreSQL (tenants/tenants-table.ts): `gateway_tenants` and
// `gateway_tenant_keys` (SHA-256 of each key, never the key) in the database's default schema,
// beside the per-tenant schemas tenant_<id> that hold each tenant's state.
import type pg from 'pg'
import type { StoredTenant, StoredTenantKey, TenantsTable } from '../../tenants/tenants-table.js'
import { createPgStore, inTransaction } from './pg-pool.js'
import { listenAndPoll } from './pg-listen.js'

/** Every change made through the table is NOTIFYed here (payload: the tenant id), on commit. */
const CHANNEL = 'gateway_tenants'

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS gateway_tenants (
    id TEXT PRIMARY KEY, pbx_url TEXT NOT NULL, client_id TEXT NOT NULL, client_secret TEXT NOT NULL,
    timezone TEXT, webhooks JSONB NOT NULL DEFAULT '[]', recordings TEXT, created_at BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS gateway_tenant_keys (
    sha256 TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES gateway_tenants(id) ON DELETE CASCADE,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'control')), created_at BIGINT NOT NULL);`

interface Row { id: string, pbx_url: string, client_id: string, client_secret: string, timezone: string | null, webhooks: StoredTenant['webhooks'], recordings: StoredTenant['recordings'], created_at: number }

/** `create` false (serving): a database without the table has no tenants (until a command creates it), and is left as it is. */
export async function openPgTenantsTable (url: string, create = true): Promise<TenantsTable> {
  const store = createPgStore(url, { max: 2 })
  let exists = true
  // Asked again on every list() until the table is there: the first `tenants add` creates it while a
  // gateway serving the table runs (before, one started without it never saw a tenant).
  const tableExists = async (): Promise<boolean> => (await store.pool.query<{ t: string | null }>("SELECT to_regclass('gateway_tenant_keys') AS t")).rows[0].t !== null
  try {
    if (create) await store.pool.query(SCHEMA)
    else exists = await tableExists()
  } catch (err) {
    await store.close()
    throw new Error(`cannot use the tenants table in ${store.name} (${err instanceof Error ? err.message : String(err)}); check DATABASE_URL and that the PostgreSQL server is running`)
  }
  const pool = store.pool
  return {
    async list () {
      exists ||= await tableExists()
      if (!exists) return []
      const tenants = (await pool.query<Row>('SELECT * FROM gateway_tenants ORDER BY created_at, id')).rows
      const keys = (await pool.query<{ tenant_id: string, sha256: string, scope: StoredTenantKey['scope'] }>('SELECT tenant_id, sha256, scope FROM gateway_tenant_keys ORDER BY created_at')).rows
      return tenants.map((r) => ({
        id: r.id, pbxUrl: r.pbx_url, clientId: r.client_id, clientSecret: r.client_secret, timezone: r.timezone,
        webhooks: r.webhooks, recordings: r.recordings, createdAt: Number(r.created_at),
        keys: keys.filter((k) => k.tenant_id === r.id).map((k) => ({ sha256: k.sha256, scope: k.scope }))
      }))
    },
    async add (t) {
      return await inTransaction(pool, async (c) => {
        const inserted = await c.query('INSERT INTO gateway_tenants (id, pbx_url, client_id, client_secret, timezone, webhooks, recordings, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING',
          [t.id, t.pbxUrl, t.clientId, t.clientSecret, t.timezone, JSON.stringify(t.webhooks), t.recordings, t.createdAt])
        if (inserted.rowCount === 0) return false
        for (const k of t.keys) await c.query('INSERT INTO gateway_tenant_keys (sha256, tenant_id, scope, created_at) VALUES ($1, $2, $3, $4)', [k.sha256, t.id, k.scope, t.createdAt])
        await notify(c, t.id)
        return true
      })
    },
    async remove (id) {
      // One statement: the notification goes out when the delete commits, and only if it deleted.
      return ((await pool.query(`WITH d AS (DELETE FROM gateway_tenants WHERE id = $1 RETURNING id) SELECT pg_notify('${CHANNEL}', id) FROM d`, [id])).rowCount ?? 0) > 0
    },
    async replaceKeys (id, key) {
      return await inTransaction(pool, async (c) => {
        if ((await c.query('SELECT 1 FROM gateway_tenants WHERE id = $1 FOR UPDATE', [id])).rowCount === 0) return false
        await c.query('DELETE FROM gateway_tenant_keys WHERE tenant_id = $1 AND scope = $2', [id, key.scope])
        await c.query('INSERT INTO gateway_tenant_keys (sha256, tenant_id, scope, created_at) VALUES ($1, $2, $3, $4)', [key.sha256, id, key.scope, Date.now()])
        await notify(c, id)
        return true
      })
    },
    async keyTaken (sha256) {
      return ((await pool.query('SELECT 1 FROM gateway_tenant_keys WHERE sha256 = $1', [sha256])).rowCount ?? 0) > 0
    },
    async follow (changed, pollMs) {
      return await listenAndPoll(pool, CHANNEL, pollMs, () => { changed() }, changed)
    },
    close: store.close
  }
}

async function notify (c: pg.PoolClient, id: string): Promise<void> {
  await c.query(`SELECT pg_notify('${CHANNEL}', $1)`, [id])
}
