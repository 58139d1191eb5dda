// Write-behind for the ports that are synchronous today (call state, unseen calls): the domain code
// hands a write over and carries on; the writes go to PostgreSQL in order, batched into one
// transaction, and while the database cannot be reached they wait here (reported to storage health)
// and are tried again every retryMs. flush() waits until everything handed over so far is written:
// the gateway calls it at shutdown. A write handed over is therefore not yet durable when the call
// returns, unlike SQLite's (architecture.md "Storage ports"). PgWrites is what those ports write on:
// this queue, or (in the gateway) the outbox's, whose transactions carry the writes with the call
// events handed over before them (PgOutboxStore.alongside).
import type pg from 'pg'
import { inTransaction, type PgStore } from './pg-pool.js'
import { isPgStorageError } from '../../storage-health.js'

export type PgWrite = (c: pg.PoolClient) => Promise<void>

/**
 * An ordered queue of writes, each run in a transaction: PgWriteBehind, or the outbox's
 * (PgOutboxStore.alongside), which commits a write with the events handed over before it.
 */
export interface PgWrites {
  push: (write: PgWrite) => void
  /** Writes everything handed over so far; false when the database could not take it (it waits). */
  flush: () => Promise<boolean>
  /** Stops retrying (at shutdown, after flush). */
  close: () => void
  /** Writes waiting to be written. */
  readonly size: number
  /** Events handed over so far: where a write pushed now stands among them (0: a queue without events). */
  readonly handed: number
  /** While a write runs: the events its transaction commits too, counted as `handed` (all of them: Infinity). */
  readonly through: number
}

export class PgWriteBehind implements PgWrites {
  readonly handed = 0
  readonly through = Infinity
  private queue: PgWrite[] = []
  private running: Promise<boolean> | null = null
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor (private readonly store: PgStore, private readonly where: string, private readonly retryMs = 1000) {}

  get size (): number {
    return this.queue.length
  }

  push (write: PgWrite): void {
    this.queue.push(write)
    if (this.running === null && this.timer === null) setImmediate(() => { void this.drain() })
  }

  async flush (): Promise<boolean> {
    while (this.running !== null) await this.running
    return await this.drain()
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private async drain (): Promise<boolean> {
    if (this.running !== null) return await this.running
    if (this.queue.length === 0) return true
    const batch = this.queue
    this.queue = []
    this.running = (async () => {
      try {
        await inTransaction(this.store.pool, async (c) => { for (const w of batch) await w(c) })
        this.store.health.ok()
        return true
      } catch (err) {
        // Nothing of the batch was committed: it goes back in front of what came since.
        this.queue = batch.concat(this.queue)
        this.store.health.failed(this.where, isPgStorageError(err) ? err : { code: 'BUG', message: err instanceof Error ? err.message : String(err) })
        this.retryLater()
        return false
      } finally {
        this.running = null
      }
    })()
    const ok = await this.running
    if (ok && this.queue.length > 0) return await this.drain()
    return ok
  }

  private retryLater (): void {
    if (this.timer !== null || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.drain()
    }, this.retryMs)
    this.timer.unref()
  }
}
