// The state origin's SQLite adapter (state-origin.ts is the port): the PBX identity in a `meta`
// table, and the discarding of the state tied to a PBX (tables of the calls and recordings modules,
// when they exist; the outbox is never touched).
import type { DiscardedState, PbxIdentity, StateOriginStore } from '../state-origin.js'
import type { SqliteDatabase } from './database.js'
import { migrate, type Migration } from './migrations.js'

export const META_MIGRATIONS: readonly Migration[] = [
  (db) => db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
]

/** Recording legs whose files are not announced yet: found under the old PBX's ids. */
const PENDING_LEGS = "SELECT leg_key FROM recording_legs WHERE state IN ('waiting', 'held', 'converting')"

export class SqliteStateOrigin implements StateOriginStore {
  constructor (private readonly db: SqliteDatabase) {
    migrate(db, 'meta', META_MIGRATIONS)
  }

  async load (): Promise<PbxIdentity | null> {
    const rows = new Map((this.db.prepare("SELECT key, value FROM meta WHERE key IN ('pbx.fqdn', 'pbx.license_sha256')").all() as Array<{ key: string, value: string }>).map((r) => [r.key, r.value]))
    const fqdn = rows.get('pbx.fqdn')
    const licenseSha256 = rows.get('pbx.license_sha256')
    return fqdn === undefined || licenseSha256 === undefined ? null : { fqdn, licenseSha256 }
  }

  save (identity: PbxIdentity): void {
    const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
    this.db.transaction(() => {
      put.run('pbx.fqdn', identity.fqdn)
      put.run('pbx.license_sha256', identity.licenseSha256)
    })()
  }

  discardPbxState (): DiscardedState {
    return this.db.transaction((): DiscardedState => {
      const run = (sql: string): number => this.db.prepare(sql).run().changes
      const has = (table: string): boolean => this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined
      const out = { calls: 0, unseenCalls: 0, recordings: 0 }
      if (has('live_calls')) {
        out.calls = run('DELETE FROM live_calls')
        out.unseenCalls = run('DELETE FROM unseen_calls')
        run('DELETE FROM call_counter')
      }
      if (has('recording_legs')) {
        run(`DELETE FROM recordings WHERE leg_key IN (${PENDING_LEGS})`)
        out.recordings = run(`DELETE FROM recording_legs WHERE leg_key IN (${PENDING_LEGS})`)
      }
      return out
    })()
  }
}
