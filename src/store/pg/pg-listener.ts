// LISTEN on a connection of its own, for the replicas' hand-offs (pg-live-views.ts, pg-call-ids.ts):
// the connection is re-established when it breaks, and `tick` runs every `everyMs` as well, so a
// notification missed while the connection was down is made up for by a poll.
import type pg from 'pg'
import type { PgStore } from './pg-pool.js'

export interface ListenOptions {
  /** Each notification's payload on `channel`. */
  on: (payload: string) => void
  /** The poll, run every `everyMs` (and once, awaited, when LISTEN first stands); its failures are ignored. */
  tick: () => Promise<void>
  everyMs: number
}

/** Listens on `channel` until the returned stop. */
export async function listenOn (store: PgStore, channel: string, o: ListenOptions): Promise<() => Promise<void>> {
  let client: pg.PoolClient | null = null
  let stopped = false
  const listen = async (): Promise<void> => {
    try {
      const c = await store.pool.connect()
      c.on('error', () => { c.release(true); if (client === c) client = null })
      c.on('notification', (n) => { if (n.channel === channel) o.on(n.payload ?? '') })
      await c.query(`LISTEN ${channel}`)
      if (stopped) { c.release(true); return }
      client = c
    } catch {
      // the poll keeps things going until LISTEN works again
    }
  }
  await listen()
  await o.tick().catch(() => {})
  const timer = setInterval(() => {
    if (client === null) void listen()
    void o.tick().catch(() => {})
  }, o.everyMs)
  timer.unref()
  return async () => {
    stopped = true
    clearInterval(timer)
    const c = client
    client = null
    if (c !== null) { await c.query(`UNLISTEN ${channel}`).catch(() => {}); c.release(true) }
  }
}
