// The per-key request limit across replicas (PostgreSQL): each replica counts locally, without a
// promise on the request path, and every `flushMs` adds its counts to a shared per-key window and
// learns the totals of every replica. Windows are fixed and aligned to the clock (floor(now/window)),
// so all replicas count into the same one. How exact it is (docs/operating.md): a replica refuses
// once the last totals it learned plus its own requests since reach the limit, so at most what the
// other replicas admitted since their last flush (about `flushMs`) passes over it. While the store
// cannot be reached, each replica enforces the limit on what it knows (at least its own requests).
import type { PerKeyLimit } from './window-counter.js'

/** The shared windows (store/pg/pg-key-windows.ts): adds counts to a window, answers its totals. */
export interface KeyWindowStore {
  add: (windowStart: number, counts: ReadonlyMap<string, number>) => Promise<ReadonlyMap<string, number>>
}

export interface SharedWindowOptions {
  max: number
  windowMs: number
  /** How often the local counts go to the store (default 200 ms). */
  flushMs?: number
  now?: () => number
  /** The first failed flush of an outage (the counts are kept and sent with the next flush). */
  onError?: (err: unknown) => void
}

export class SharedWindowCounter implements PerKeyLimit {
  private window = 0
  /** Requests counted here and not yet added to the store. */
  private pending = new Map<string, number>()
  /** Requests being added to the store now. */
  private inflight = new Map<string, number>()
  /** Totals of every replica, as the store last answered them (this replica's flushed requests included). */
  private known = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> | null = null
  private failing = false
  private readonly now: () => number

  constructor (private readonly store: KeyWindowStore, private readonly opts: SharedWindowOptions) {
    this.now = opts.now ?? Date.now
  }

  start (): void {
    this.timer ??= setInterval(() => { void this.flush() }, this.opts.flushMs ?? 200)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.flush()
  }

  /** Counts one request of `key`: 0 when within the limit, else the seconds until its window ends (≥ 1). */
  hit (key: string): number {
    const now = this.now()
    const start = now - (now % this.opts.windowMs)
    if (start !== this.window) {
      this.window = start
      this.pending = new Map()
      this.inflight = new Map()
      this.known = new Map()
    }
    const mine = (this.pending.get(key) ?? 0) + 1
    this.pending.set(key, mine)
    if ((this.known.get(key) ?? 0) + (this.inflight.get(key) ?? 0) + mine <= this.opts.max) return 0
    return Math.max(1, Math.ceil((start + this.opts.windowMs - now) / 1000))
  }

  /** Adds the local counts to the shared window and learns its totals (one flush at a time). */
  async flush (): Promise<void> {
    this.flushing ??= this.send().finally(() => { this.flushing = null })
    await this.flushing
  }

  private async send (): Promise<void> {
    if (this.pending.size === 0) return
    const window = this.window
    const counts = this.pending
    this.pending = new Map()
    this.inflight = counts
    try {
      const totals = await this.store.add(window, counts)
      if (window !== this.window) return
      this.failing = false
      this.inflight = new Map()
      for (const [key, total] of totals) this.known.set(key, total)
    } catch (err) {
      // Not lost: counted again with the next flush of this window.
      if (window === this.window) {
        this.inflight = new Map()
        for (const [key, n] of counts) this.pending.set(key, (this.pending.get(key) ?? 0) + n)
      }
      if (!this.failing) this.opts.onError?.(err)
      this.failing = true
    }
  }
}
