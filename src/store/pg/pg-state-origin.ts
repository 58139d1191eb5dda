// Which PBX the state came from, on PostgreSQL (state-origin.ts is the port; store/sqlite-state-origin.ts
// the SQLite adapter): the identity in `meta`, and the discarding of the calls in progress, the
// unseen-calls bookkeeping and the recordings not announced yet (pg-recording-index.ts); never the outbox.
import type { DiscardedState, PbxIdentity, StateOriginStore } from '../../state-origin.js'
import { inTransaction, type PgStore } from './pg-pool.js'

/** Recording legs whose files are not announced yet: found under the old PBX's ids. */
const PENDING_LEGS = "SELECT leg_key FROM recording_legs WHERE state IN ('waiting', 'held', 'converting')"

export class PgStateOrigin implements StateOriginStore {
  constructor (private readonly store: PgStore) {}

  async load (): Promise<PbxIdentity | null> {
    const rows = new Map((await this.store.pool.query<{ key: string, value: string }>("SELECT key, value FROM meta WHERE key IN ('pbx.fqdn', 'pbx.license_sha256')")).rows.map((r) => [r.key, r.value]))
    const fqdn = rows.get('pbx.fqdn')
    const licenseSha256 = rows.get('pbx.license_sha256')
    return fqdn === undefined || licenseSha256 === undefined ? null : { fqdn, licenseSha256 }
  }

  async save (identity: PbxIdentity): Promise<void> {
    await this.store.pool.query("INSERT INTO meta (key, value) VALUES ('pbx.fqdn', $1), ('pbx.license_sha256', $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [identity.fqdn, identity.licenseSha256])
  }

  async discardPbxState (): Promise<DiscardedState> {
    return await inTransaction(this.store.pool, async (c) => {
      const calls = (await c.query('DELETE FROM live_calls')).rowCount ?? 0
      const unseenCalls = (await c.query('DELETE FROM unseen_calls')).rowCount ?? 0
      await c.query('DELETE FROM call_counter')
      await c.query(`DELETE FROM recordings WHERE leg_key IN (${PENDING_LEGS})`)
      const recordings = (await c.query(`DELETE FROM recording_legs WHERE leg_key IN (${PENDING_LEGS})`)).rowCount ?? 0
      return { calls, unseenCalls, recordings }
    })
  }
}
