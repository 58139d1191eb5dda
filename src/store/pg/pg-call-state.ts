// The live call state and the unseen-calls bookkeeping on PostgreSQL (calls/call-ports.ts are the
// ports; store/sqlite-call-state.ts and sqlite-unseen-calls.ts the SQLite adapters). Loading is
// awaited at start as with SQLite; writes are write-behind (pg-write-behind.ts): the latest state
// per call is kept until written, and atomically() cannot share a transaction with the outbox, so
// after a crash a call's state and its events' outbox rows may be one write apart (at-least-once
// covers it: a resumed call re-announces, a lost state re-reads the call from the PBX snapshot).
import type { CallStateStore, MissingCall, SavedUnseenCalls, StoredCall, UnseenCallStore } from '../../calls/call-ports.js'
import type { PgStore } from './pg-pool.js'
import { PgWriteBehind } from './pg-write-behind.js'

export class PgCallStateStore implements CallStateStore {
  readonly writes: PgWriteBehind
  /** The latest state not yet written, per call (null: delete it). */
  private readonly waiting = new Map<number, StoredCall | null>()
  private queued = false

  /**
   * @param eventsWritten resolves once the events handed to the outbox so far are committed: a
   *   state is written only after the events that led to it (PgOutboxStore.written()).
   */
  constructor (private readonly store: PgStore, private readonly now: () => number = Date.now, retryMs?: number, private readonly eventsWritten?: () => Promise<void>) {
    this.writes = new PgWriteBehind(store, 'call state', retryMs)
  }

  async loadAll (): Promise<StoredCall[]> {
    const rows = (await this.store.pool.query<StoredCall>('SELECT callid, chid, state FROM live_calls ORDER BY callid')).rows
    return rows.map((r) => ({ callid: r.callid, chid: r.chid, state: r.state }))
  }

  write (save: readonly StoredCall[], remove: readonly number[]): boolean {
    for (const c of save) this.waiting.set(c.callid, c)
    for (const id of remove) this.waiting.set(id, null)
    if (this.waiting.size > 0 && !this.queued) {
      this.queued = true
      // The states are taken once, at the first try: a retry (the write-behind puts a failed step
      // back, even one whose COMMIT was lost) writes the same rows; newer states go in a later step.
      let rows: Array<[number, StoredCall | null]> | null = null
      this.writes.push(async (c) => {
        if (rows === null) {
          rows = [...this.waiting]
          this.waiting.clear()
          this.queued = false
          // Asked at once: it covers the events handed over with these states (same tick or earlier).
          await this.eventsWritten?.()
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
    return true
  }

  /** No transaction is shared with the outbox on PostgreSQL (see above): runs `fn`. */
  atomically<T>(fn: () => T): T {
    return fn()
  }
}

export class PgUnseenCallStore implements UnseenCallStore {
  readonly writes: PgWriteBehind

  /**
   * @param states the call state's write-behind (PgCallStateStore.writes), to share: a call leaves
   *   the unseen list (removeMissing, once the model wrote its state) only in the same or a later
   *   transaction than that state. With a queue of its own the removal committed first (the state
   *   waits for its events), and a replica killed in between left a call in neither table: the next
   *   holder neither resumed it nor looked it up, and its call-ended event was never sent.
   */
  constructor (private readonly store: PgStore, retryMs?: number, states?: PgWriteBehind) {
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
 * The call state and the unseen calls as the gateway uses them: one write-behind, in order (see
 * PgUnseenCallStore's `states`); a state waits for the events handed over before it (`eventsWritten`).
 */
export function pgCallStores (store: PgStore, eventsWritten?: () => Promise<void>): { calls: PgCallStateStore, unseen: PgUnseenCallStore } {
  const calls = new PgCallStateStore(store, Date.now, undefined, eventsWritten)
  return { calls, unseen: new PgUnseenCallStore(store, undefined, calls.writes) }
}
