// LISTEN on a channel with a poll behind it: a connection of its own LISTENs and calls `notified`
// with each payload; every `pollMs` `poll` runs anyway (a notification sent while that connection
// was lost or being re-established is never delivered), and a lost connection is LISTENed again,
// one attempt at a time: after a database restart a connection can take longer than a poll, and an
// attempt per poll left all but the last connection checked out for good (the pool never ended).
import type pg from 'pg'

export async function listenAndPoll (pool: pg.Pool, channel: string, pollMs: number, notified: (payload: string | undefined) => void, poll: () => void): Promise<() => Promise<void>> {
  let client: pg.PoolClient | null = null
  let stopped = false
  /** The attempt under way (null: none). */
  let attempt: Promise<void> | null = null
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
  const relisten = async (): Promise<void> => {
    attempt ??= listen().finally(() => { attempt = null })
    await attempt
  }
  await relisten()
  const timer = setInterval(() => {
    if (client === null && !stopped) void relisten()
    poll()
  }, pollMs)
  timer.unref()
  return async () => {
    stopped = true
    clearInterval(timer)
    // An attempt under way gives its connection back itself once it has one (it sees `stopped`).
    await attempt
    if (client !== null) await unlisten()
  }
}
