// Live views on PostgreSQL (replicas/replica-calls-view.ts LiveViewChannel): the holder of a PBX's
// stream upserts its view into `live_views` and NOTIFYs channel `live_views` with the PBX id, in one
// transaction; standbys LISTEN on a connection of their own and read the row when told (and every
// 2 s, in case a notification was missed while that connection was being re-established).
import type { LiveViewChannel, PublishedCalls } from '../../replicas/replica-calls-view.js'
import { inTransaction, type PgStore } from './pg-pool.js'
import { listenAndPoll } from './pg-listen.js'

const NAME = 'calls'

export class PgLiveViews implements LiveViewChannel {
  constructor (private readonly store: PgStore, private readonly pbxId: string) {}

  async publish (view: PublishedCalls): Promise<void> {
    await inTransaction(this.store.pool, async (c) => {
      await c.query('INSERT INTO live_views (pbx_id, name, body, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (pbx_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
        [this.pbxId, NAME, JSON.stringify(view), view.at])
      await c.query("SELECT pg_notify('live_views', $1)", [this.pbxId])
    })
  }

  async follow (on: (view: PublishedCalls) => void): Promise<() => Promise<void>> {
    let last = -1
    const read = async (): Promise<void> => {
      const r = (await this.store.pool.query<{ body: PublishedCalls, updated_at: number }>('SELECT body, updated_at FROM live_views WHERE pbx_id = $1 AND name = $2', [this.pbxId, NAME])).rows[0]
      if (r !== undefined && r.updated_at !== last) { last = r.updated_at; on(r.body) }
    }
    // Listening first: a view published between the read and the LISTEN would wait for the poll.
    const stop = await listenAndPoll(this.store.pool, 'live_views', 2000, (pbx) => { if (pbx === this.pbxId) void read().catch(() => {}) }, () => { void read().catch(() => {}) })
    await read().catch(() => {})
    return stop
  }
}
