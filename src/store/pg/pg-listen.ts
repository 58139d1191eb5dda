// LISTEN on a channel with a poll behind it: a connection of its own LISTENs and calls `notified`
// with each payload; every `pollMs` `poll` runs anyway (a notification sent while that connection
// was lost or being re-established is never delivered), and a lost connection is LISTENed again.
import type pg from 'pg'

export async function listenAndPoll (pool: pg.Pool, channel: string, pollMs: number, notified: (payload: string | undefined) => void, poll: () => void): Promise<() => Promise<void>> {
  let client: pg.PoolClient | null = null
  let stopped = false
  const listen = async (): Promise<void> => {
    try {
      const c = await pool.connect()
      c.on('error', () => { c.release(true); if (client === c) client = null })
      c.on('notification', (n) => { if (n.channel === channel) notified(n.payload) })
      await c.query(`LISTEN ${channel}`)
      if (stopped) { c.release(true); return }
      client = c
    } catch {
      // the poll keeps things fresh until LISTEN works again
    }
  }
  await listen()
  const timer = setInterval(() => {
    if (client === null) void listen()
    poll()
  }, pollMs)
  timer.unref()
  return async () => {
    stopped = true
    clearInterval(timer)
    const c = client
    client = null
    if (c !== null) { await c.query(`UNLISTEN ${channel}`).catch(() => {}); c.release(true) }
  }
}
