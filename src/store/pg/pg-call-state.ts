// The live call state and the unseen-calls bookkeeping on PostgreSQL (calls/call-ports.ts are the
// ports; store/sqlite-call-state.ts and sqlite-unseen-calls.ts the SQLite adapters). Loading is
// awaited at start as with SQLite; writes are write-behind (pg-write-behind.ts PgWrites). In the
// gateway they ride in the outbox's transactions (PgOutboxStore.alongside): a call's state commits
// with the outbox rows of the events that led to it, never before them and never after, so the
// replica that takes a stream over resumes each call from the state its events were sent from.
// (Written after its events, in a transaction of its own, a kill in between left the state behind
// the events sent: the next holder stamped later events earlier than them and put conversations on
// other links; tenant-faults.test.ts.) Without the outbox's queue (tests) the writes have their own.
import type { CallStateStore, MissingCall, SavedUnseenCalls, StoredCall, UnseenCallStore } from '../../calls/call-ports.js'
import type { PgStore } from './pg-pool.js'
import { PgWriteBehind, type PgWrites } from './pg-write-behind.js'

/** States handed over while the same events were handed over: the latest per call (null: delete it). */
interface Group { at: number, calls: Map<number, StoredCall | null> }

export class PgCallStateStore implements CallStateStore {
  readonly writes: PgWrites
  /** The states not yet written, in the order handed over, grouped by their place among the events. */
  private groups: Group[] = []

  /**
   * @param writes the queue to write on: the outbox's (PgOutboxStore.alongside), so that a state
   *   commits with its events; default a write-behind of its own.
   */
  constructor (private readonly store: PgStore, private readonly now: () => number = Date.now, retryMs?: number, writes?: PgWrites) {
    this.writes = writes ?? new PgWriteBehind(store, 'call state', retryMs)
  }

  async loadAll (): Promise<StoredCall[]> {
    const rows = (await this.store.pool.query<StoredCall>('SELECT callid, chid, state FROM live_calls ORDER BY callid')).rows
    return rows.map((r) => ({ callid: r.callid, chid: r.chid, state: r.state }))
  }

  write (save: readonly StoredCall[], remove: readonly number[]): boolean {
    if (save.length === 0 && remove.length === 0) return true
    // The events that led to these states were handed over already (publish() sends, then writes).
    const at = this.writes.handed
    let group = this.groups.at(-1)
    if (group === undefined || group.at !== at) {
      group = { at, calls: new Map() }
      this.groups.push(group)
      this.pushStep(at)
    }
    for (const c of save) group.calls.set(c.callid, c)
    for (const id of remove) group.calls.set(id, null)
    return true
  }

  /**
   * One step per group, run in the transaction of the events before it (or a later one). The first
   * step of a transaction writes every group its transaction covers (`through`), the latest state per
   * call; the others find nothing left. The rows are taken once, at the first try: a retry (a failed
   * transaction is put back, even one whose COMMIT was lost) writes the same rows, in a transaction
   * covering at least the same events.
   */
  private pushStep (at: number): void {
    let rows: Array<[number, StoredCall | null]> | null = null
    this.writes.push(async (c) => {
      if (rows === null) {
        const through = this.writes.through
        let n = 0
        while (n < this.groups.length && this.groups[n].at <= Math.max(at, through)) n++
        const taken = this.groups.splice(0, n)
        const latest = new Map<number, StoredCall | null>()
        for (const g of taken) for (const [id, call] of g.calls) latest.set(id, call)
        rows = [...latest]
      }
      const upserts = rows.filter((r): r is [number, StoredCall] => r[1] !== null).map((r) => r[1])
      const deletes = rows.filter((r) => r[1] === null).map((r) => r[0])
      if (deletes.length > 0) await c.query('DELETE FROM live_calls WHERE callid = ANY($1::bigint[])', [deletes])
      if (upserts.length > 0) {
        await c.query(`INSERT INTO live_calls (callid, chid, state, updated_at)
          SELECT x.callid, x.chid, x.state, $4 FROM unnest($1::bigint[], $2::text[], $3::jsonb[]) AS x(callid, chid, state)
          ON CONFLICT (callid) DO UPDATE SET chid = excluded.chid, state = excluded.state, updated_at = excluded.updated_at`,
        [upserts.map((u) => u.callid), upserts.map((u) => u.chid), upserts.map((u) => JSON.stringify(u.state)), this.now()])
      }
    })
  }

  /** The transaction is the outbox's write-behind's (see above): runs `fn`. */
  atomically<T>(fn: () => T): T {
    return fn()
  }
}

export class PgUnseenCallStore implements UnseenCallStore {
  readonly writes: PgWrites

  /**
   * @param states the call state's queue (PgCallStateStore.writes), to share: a call leaves the
   *   unseen list (removeMissing, once the model wrote its state) only in the same or a later
   *   transaction than that state. With a queue of its own the removal could commit first, and a
   *   replica killed in between left a call in neither table: the next holder neither resumed it
   *   nor looked it up, and its call-ended event was never sent.
   */
  constructor (private readonly store: PgStore, retryMs?: number, states?: PgWrites) {
    this.writes = states ?? new PgWriteBehind(store, 'unseen calls', retryMs)
  }

  async load (): Promise<SavedUnseenCalls> {
    const c = (await this.store.pool.query<{ highest: number, seen_at: number }>('SELECT highest, seen_at FROM call_counter WHERE id = 1')).rows[0]
    const missing = (await this.store.pool.query<MissingCall>('SELECT callid, since, after FROM unseen_calls ORDER BY callid')).rows
    return { highest: c?.highest ?? null, highestAt: c?.seen_at ?? null, missing }
  }

  saveHighest (callid: number, at: number): void {
    this.writes.push(async (c) => { await c.query('INSERT INTO call_counter (id, highest, seen_at) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET highest = excluded.highest, seen_at = excluded.seen_at', [callid, at]) })
  }

  addMissing (calls: readonly MissingCall[]): void {
    const rows = [...calls]
    this.writes.push(async (c) => {
      await c.query('INSERT INTO unseen_calls (callid, since, after) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING',
        [rows.map((m) => m.callid), rows.map((m) => m.since), rows.map((m) => m.after)])
    })
  }

  removeMissing (ids: readonly number[]): void {
    const rows = [...ids]
    this.writes.push(async (c) => { await c.query('DELETE FROM unseen_calls WHERE callid = ANY($1::bigint[])', [rows]) })
  }
}

/**
 * The call state and the unseen calls as the gateway uses them: one queue, in order (see
 * PgUnseenCallStore's `states`): the outbox's (`writes`: PgOutboxStore.alongside), so that each
 * write commits with the events handed over before it.
 */
export function pgCallStores (store: PgStore, writes?: PgWrites): { calls: PgCallStateStore, unseen: PgUnseenCallStore } {
  const calls = new PgCallStateStore(store, Date.now, undefined, writes)
  return { calls, unseen: new PgUnseenCallStore(store, undefined, calls.writes) }
}
