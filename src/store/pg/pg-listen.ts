// LISTEN on a channel with a poll behind it: a connection of its own LISTENs and calls `notified`
// with each payload; every `pollMs` `poll` runs anyway (a notification sent while that connection
// was lost or being re-established is never delivered), and a lost connection is LISTENed again.
import type pg from 'pg'

export async function listenAndPoll (pool: pg.Pool, channel: string, pollMs: number, notified: (payload: string | undefined) => void, poll: () => void): Promise<() => Promise<void>> {
  let client: pg.PoolClient | null = null
  let stopped = false
  const listen = async (): Promise<void> => {
    let c: pg.PoolClient | undefined
    // A connection that fails can emit 'error' more than once, or while stop() is releasing it:
    // it goes back to the pool (destroyed) exactly once, since pg-pool throws on a second release.
    let released = false
    const drop = (): void => {
      if (client === c) client = null
      if (c !== undefined && !released) { released = true; c.release(true) }
    }
    try {
      c = await pool.connect()
      c.on('error', drop)
      c.on('notification', (n) => { if (n.channel === channel) notified(n.payload) })
      await c.query(`LISTEN ${channel}`)
      if (stopped) { drop(); return }
      client = c
      unlisten = async () => { await c?.query(`UNLISTEN ${channel}`).catch(() => {}); drop() }
    } catch {
      drop() // the poll keeps things fresh until LISTEN works again
    }
  }
  let unlisten = async (): Promise<void> => {}
  await listen()
  const timer = setInterval(() => {
    if (client === null && !stopped) void listen()
    poll()
  }, pollMs)
  timer.unref()
  return async () => {
    stopped = true
    clearInterval(timer)
    if (client !== null) await unlisten()
  }
}
