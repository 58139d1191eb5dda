// The PBX access token shared by the replicas of one PBX, on PostgreSQL (pbx/token-manager.ts
// SharedToken): the stream's holder writes each token it fetches into its `stream_leases` row, the
// standbys read it from there. 3CX keeps one active token per API client, so a standby fetching its
// own would cut the holder's WebSocket off. The row holds the token only while its holder holds the
// lease (a take-over clears it); the token is short-lived and never logged.
import type { SharedToken } from '../../pbx/token-manager.js'
import type { PgStore } from './pg-pool.js'

export class PgSharedToken implements SharedToken {
  /** Set by the stream lease's holder/standby changes (services.ts). */
  borrow = true

  constructor (private readonly store: PgStore, private readonly pbxId: string, private readonly replica: string) {}

  async read (): Promise<{ token: string, expiresAt: number } | null> {
    const r = (await this.store.pool.query<{ access_token: string | null, token_expires_at: number | null }>(
      'SELECT access_token, token_expires_at FROM stream_leases WHERE pbx_id = $1', [this.pbxId])).rows[0]
    return r?.access_token == null || r.token_expires_at === null ? null : { token: r.access_token, expiresAt: r.token_expires_at }
  }

  publish (token: string, expiresAt: number): void {
    void this.store.pool.query('UPDATE stream_leases SET access_token = $3, token_expires_at = $4 WHERE pbx_id = $1 AND holder = $2',
      [this.pbxId, this.replica, token, expiresAt]).catch(() => {})
  }
}
