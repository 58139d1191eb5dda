// The outbox port (webhooks/outbox-store.ts) on PostgreSQL, for the gateway's delivery: reads and
// settling are awaited (the port allows promises); enqueue is write-behind, because the call model
// hands its events over synchronously: events wait here in order, are written in batches, and the
// delivery scheduler hears of their deliveries once they are committed, as with SQLite. While the
// database cannot be reached they wait in memory (at most maxHeld, then refused and counted) and are
// tried again every retryMs; close() writes what waits. What start-up needs at once (pending jobs,
// disabled targets, the depth for /metrics) is loaded by open() and kept up to date here.
// The call state and the unseen calls ride along (`alongside`): a write handed over there commits in
// the same transaction as the events handed over before it, as on SQLite, so a crash never leaves a
// call's state behind (or ahead of) the events already stored for it.
// Delivery costs round trips per batch, not per delivery: a claim brings its events along (loadEvent
// answers them from memory, once) and outcomes are settled in group commits (../settle-batch.ts).
import type { WebhookTargetConfig } from '../../config.js'
import type { CallEvent } from '../../calls/call-events.js'
import type { StorageHealth } from '../../storage-health.js'
import type { AttemptRecord, DeliveryJob, DeliveryStatus, DeliveryView, EnqueueListener, ListQuery, OutboxLog, OutboxStore, StoredEvent } from '../../webhooks/outbox-store.js'
import { PgOutbox, type SettleItem } from './pg-outbox.js'
import type { PgStore } from './pg-pool.js'
import { PgClaimer, type PgClaimerOptions } from './pg-claimer.js'
import { SettleBatch } from '../settle-batch.js'
import type { PgWrite, PgWrites } from './pg-write-behind.js'

export interface PgOutboxStoreOptions {
  targets: readonly WebhookTargetConfig[]
  now?: () => number
  /** The PBX the events come from, in their webhook ids (webhooks/message-id.ts). */
  idScope?: string
  maxHeld?: number
  retryMs?: number
  /**
   * Claim mode (replicas sharing the database): deliveries reach this process's scheduler only
   * through claims (pg-claimer.ts), never straight from its own writes or at start.
   */
  claim?: PgClaimerOptions
}

type Depth = Record<string, { pending: number, failed: number }>

export class PgOutboxStore implements OutboxStore {
  readonly outbox: PgOutbox
  readonly health: StorageHealth
  log: OutboxLog | undefined
  refused = 0
  /** Events not stored because their key was stored already (derived again after a takeover). */
  rederived = 0
  private held: CallEvent[] = []
  /** The batch being written now (counted as held until committed). */
  private writing = 0
  private draining: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private readonly listeners = new Set<EnqueueListener>()
  private readonly disabled = new Map<string, { at: number, reason: string }>()
  private pendingAtStart = new Map<string, DeliveryJob[]>()
  private lastDepth: Depth = {}
  private readonly claimer: PgClaimer | null
  /** Events of claimed deliveries, read with the claim; taken out by the delivery's first loadEvent. */
  private readonly claimedEvents = new Map<number, StoredEvent>()
  private readonly settles: SettleBatch<SettleItem>
  /** Events accepted and events committed so far, and who waits for a count to be committed (written()). */
  private accepted = 0
  private committed = 0
  private waiters: Array<{ n: number, resolve: () => void }> = []
  /** Writes riding along, each after the events accepted when it was handed over (`after`). */
  private side: Array<{ after: number, write: PgWrite }> = []
  /** While a batch is written: the events its transaction commits (counted as `accepted`). */
  private through = 0
  /**
   * The call state's queue (pg-call-state.ts): each write runs in the transaction of the events
   * accepted before it (or a later one), after them; retried with them.
   */
  readonly alongside: PgWrites

  constructor (private readonly store: PgStore, private readonly opts: PgOutboxStoreOptions) {
    this.outbox = new PgOutbox(store, opts)
    this.health = store.health
    for (const t of opts.targets) this.lastDepth[t.name] = { pending: 0, failed: 0 }
    this.claimer = opts.claim === undefined ? null : new PgClaimer(this.outbox, opts.claim, (jobs) => { for (const l of this.listeners) l(jobs) }, this.claimedEvents)
    this.settles = new SettleBatch(async (items) => await this.outbox.settleMany(items))
    const self = this
    this.alongside = {
      push: (write) => {
        this.side.push({ after: this.accepted, write })
        if (this.timer === null) setImmediate(() => { void this.drain() })
      },
      flush: async () => {
        await this.drain()
        return this.side.length === 0 && this.heldCount === 0
      },
      close: () => {},
      get size () { return self.side.length },
      get handed () { return self.accepted },
      get through () { return self.through }
    }
  }

  get targets (): readonly WebhookTargetConfig[] {
    return this.opts.targets
  }

  get heldCount (): number {
    return this.held.length + this.writing
  }

  /** Loads what start-up needs synchronously: disabled targets, pending deliveries, the depth. */
  async open (): Promise<void> {
    for (const [name, d] of await this.outbox.disabledTargets()) this.disabled.set(name, d)
    if (this.claimer === null) for (const t of this.opts.targets) this.pendingAtStart.set(t.name, await this.outbox.pendingJobs(t.name))
    await this.refreshDepth()
  }

  enqueue (event: CallEvent): number | undefined {
    this.enqueueMany([event])
    return undefined
  }

  /** Hands the events to the write-behind (their ids are not known yet: none are returned). */
  enqueueMany (events: readonly CallEvent[]): number[] {
    const room = Math.max(0, (this.opts.maxHeld ?? 50_000) - this.heldCount)
    if (events.length > room) {
      if (this.refused === 0) this.log?.error({ database: this.store.name, held: this.heldCount }, `${this.store.name} cannot be written and too many events already wait in memory: new call events are REFUSED (lost) until it can; see gateway_events_refused_total`)
      this.refused += events.length - room
    }
    const taken = events.slice(0, room)
    this.accepted += taken.length
    this.held.push(...taken)
    if (this.timer === null) setImmediate(() => { void this.drain() })
    return []
  }

  /** Writes what waits, oldest first, in batches; on a lost database keeps it and retries later. */
  private async drain (): Promise<void> {
    if (this.draining !== null) return await this.draining
    this.draining = (async () => {
      while (this.held.length > 0 || this.side.length > 0) {
        const batch = this.held.splice(0, 500)
        this.through = this.committed + batch.length
        let n = 0
        while (n < this.side.length && this.side[n].after <= this.through) n++
        const side = this.side.splice(0, n)
        if (batch.length === 0 && side.length === 0) break
        this.writing = batch.length
        try {
          const { jobs, rederived } = await this.outbox.insert(batch, side.map((s) => s.write))
          this.writing = 0
          this.rederived += rederived.length
          for (const e of rederived) this.log?.debug?.({ key: e.key }, 'call event derived again: the stored copy is kept')
          this.committed += batch.length
          this.wakeWaiters()
          for (const j of jobs) this.lastDepth[j.target] = { pending: (this.lastDepth[j.target]?.pending ?? 0) + 1, failed: this.lastDepth[j.target]?.failed ?? 0 }
          if (this.claimer !== null) { this.claimer.wake(); continue }
          // Written before the scheduler asked for what was pending: handed over with that, not lost.
          const fresh = jobs.filter((j) => this.pendingAtStart.get(j.target)?.push(j) === undefined)
          if (fresh.length > 0) for (const l of this.listeners) l(fresh)
        } catch (err) {
          this.writing = 0
          this.held = batch.concat(this.held)
          this.side = side.concat(this.side)
          // Reported to storage health by PgOutbox (a lost database); anything else is logged once here.
          if (this.health.problem === null) this.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'writing call events to PostgreSQL failed; they wait in memory and are tried again')
          this.timer ??= setTimeout(() => { this.timer = null; void this.drain() }, this.opts.retryMs ?? 1000)
          this.timer.unref()
          return
        }
      }
    })()
    try {
      await this.draining
    } finally {
      this.draining = null
    }
  }

  /**
   * Resolves once every event accepted so far is committed. A recording leg is marked announced
   * only after it (pg-recording-index.ts). (The call state needs more: it rides in the events'
   * transaction, `alongside`.)
   */
  async written (): Promise<void> {
    const n = this.accepted
    if (this.committed >= n) return
    await new Promise<void>((resolve) => { this.waiters.push({ n, resolve }) })
  }

  private wakeWaiters (all = false): void {
    const still = []
    for (const w of this.waiters) if (all || w.n <= this.committed) w.resolve(); else still.push(w)
    this.waiters = still
  }

  onEnqueue (listener: EnqueueListener): () => void {
    this.listeners.add(listener)
    this.claimer?.start()
    return () => { this.listeners.delete(listener) }
  }

  /** The pending deliveries loaded by open() (asked once, when the scheduler starts). */
  pendingJobs (target: string): DeliveryJob[] {
    const jobs = this.pendingAtStart.get(target) ?? []
    this.pendingAtStart.delete(target)
    return jobs
  }

  async loadEvent (eventId: number): Promise<StoredEvent | null> {
    const claimed = this.claimedEvents.get(eventId)
    if (claimed === undefined) return await this.outbox.loadEvent(eventId)
    this.claimedEvents.delete(eventId) // a retry reads it again: the map holds only what is about to be sent
    return claimed
  }

  async settle (job: DeliveryJob, attempt: AttemptRecord, status: DeliveryStatus, nextAt: number): Promise<boolean> {
    const c = this.claimer
    // Claimed: a retry stays this consumer's until it is due (plus the lease); it retries it itself.
    const ok = await this.settles.settle({ job, attempt, status, nextAt, leaseUntil: c === null ? null : nextAt + c.opts.leaseMs })
    if (ok && status !== 'pending') c?.settled(job)
    else if (ok) c?.retrying(job)
    return ok
  }

  async redeliver (id: number): Promise<DeliveryJob | null> {
    const job = await this.outbox.redeliver(id)
    if (job !== null && this.claimer !== null) this.claimer.wake()
    else if (job !== null) for (const l of this.listeners) l([job])
    return job
  }

  async list (q?: ListQuery): Promise<DeliveryView[]> {
    return await this.outbox.list(q)
  }

  async attempts (deliveryId: number): Promise<AttemptRecord[]> {
    return await this.outbox.attempts(deliveryId)
  }

  /** The depth last read (for /metrics, which cannot wait); each call refreshes it in the background. */
  depth (): Depth {
    void this.refreshDepth().catch(() => {})
    return this.lastDepth
  }

  /** Events waiting to go out: pending deliveries (as last read) plus events held in memory. */
  depthTotal (): number {
    return Object.values(this.depth()).reduce((n, d) => n + d.pending, 0) + this.heldCount
  }

  private async refreshDepth (): Promise<void> {
    this.lastDepth = await this.outbox.depth()
  }

  /** Disabled at once in memory; in the database as soon as it can be written. */
  disableTarget (name: string, reason: string): void {
    this.disabled.set(name, { at: (this.opts.now ?? Date.now)(), reason })
    void this.outbox.disableTarget(name, reason).catch(() => {})
  }

  enableTarget (name: string): void {
    this.disabled.delete(name)
    void this.outbox.enableTarget(name).catch(() => {})
  }

  disabledTargets (): ReadonlyMap<string, { at: number, reason: string }> {
    return this.disabled
  }

  async prune (before: number): Promise<number> {
    return await this.outbox.prune(before)
  }

  /** For /readyz: a query answered, and no failed write waiting to clear. */
  async readiness (): Promise<string | null> {
    try {
      await this.store.pool.query('SELECT 1')
    } catch (err) {
      return `cannot reach ${this.store.name} (${err instanceof Error ? err.message : String(err)})${this.heldCount > 0 ? `; ${this.heldCount} call events wait in memory` : ''}`
    }
    const problem = this.health.readiness()
    if (problem === null) return null
    return this.heldCount > 0 ? `${problem}; ${this.heldCount} call events wait in memory` : problem
  }

  /** At shutdown: writes what waits; says how many are lost if it cannot. */
  async close (): Promise<void> {
    await this.claimer?.stop()
    this.claimedEvents.clear()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.drain()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.wakeWaiters(true)
    if (this.heldCount > 0) this.log?.error({ database: this.store.name, events: this.heldCount }, `stopping with ${this.heldCount} call events that could not be written to ${this.store.name}: they are lost`)
  }
}
