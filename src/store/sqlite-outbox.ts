// The outbox's SQLite adapter (webhooks/outbox-store.ts is the port): every event is written (one event row plus one delivery row per matching
// target, in one transaction) before anything else happens to it; delivery state, every attempt and
// disabled targets (410) live here too, so a restarted gateway carries on where it stopped.
import type { WebhookTargetConfig } from '../config.js'
import type { CallEvent, WebhookPayload } from '../calls/call-events.js'
import { isStorageError, storageHealthOf, type StorageHealth } from '../storage-health.js'
import { targetWants, type AttemptRecord, type DeliveryJob, type DeliveryStatus, type DeliveryView, type EnqueueListener, type ListQuery, type OutboxLog, type OutboxStore, type SettleOutcome, type StoredEvent } from '../webhooks/outbox-store.js'
import { messageIdOf } from '../webhooks/message-id.js'
import { afterCommit, type SqliteDatabase } from './database.js'
import { migrate, type Migration } from './migrations.js'
import { deliveryViewOf, jobOf, type DeliveryListRow, type DeliveryRow } from './delivery-view.js'
import { SettleBatch, sameTurn } from './settle-batch.js'

export const OUTBOX_MIGRATIONS: readonly Migration[] = [
  (db) => db.exec(`
    CREATE TABLE webhook_events (
      id INTEGER PRIMARY KEY,
      message_id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      chain TEXT NOT NULL,
      payload TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE webhook_deliveries (
      id INTEGER PRIMARY KEY,
      event_id INTEGER NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
      target TEXT NOT NULL,
      chain TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      last_status INTEGER,
      last_error TEXT
    );
    CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, target, id);
    CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id);
    CREATE TABLE webhook_attempts (
      id INTEGER PRIMARY KEY,
      delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
      at INTEGER NOT NULL,
      status_code INTEGER,
      duration_ms INTEGER NOT NULL,
      error TEXT,
      excerpt TEXT
    );
    CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id);
    CREATE TABLE webhook_targets (
      name TEXT PRIMARY KEY,
      disabled_at INTEGER,
      reason TEXT
    );
  `)
]

export interface OutboxOptions {
  targets: readonly WebhookTargetConfig[]
  now?: () => number
  /** The PBX the events come from, in their webhook ids (webhooks/message-id.ts). */
  idScope?: string
  /** Events kept in memory while gateway.db cannot be written; past this, new events are refused. */
  maxHeld?: number
  /** How often held events are written again (ms). */
  retryMs?: number
}

export class SqliteOutbox implements OutboxStore {
  private readonly listeners = new Set<EnqueueListener>()
  private readonly now: () => number
  private readonly disabled = new Map<string, { at: number, reason: string }>()
  private readonly stmt
  /** Events not yet written because gateway.db could not be written; oldest first. */
  private held: CallEvent[] = []
  private heldTimer: NodeJS.Timeout | null = null
  /** Events refused because the held list was full (lost: counted, logged). */
  refused = 0
  /** Events not stored because their key was stored already (derived again after a takeover). */
  rederived = 0
  private refusing = false
  readonly health: StorageHealth
  log: OutboxLog | undefined
  /** Outcomes of one turn of the event loop, committed together (settle()). */
  private readonly settles = new SettleBatch<SettleOutcome>((items) => this.settleMany(items), { gather: sameTurn })

  constructor (readonly db: SqliteDatabase, private readonly opts: OutboxOptions) {
    migrate(db, 'webhooks', OUTBOX_MIGRATIONS)
    this.health = storageHealthOf(db)
    this.now = opts.now ?? Date.now
    this.stmt = {
      // A key stored already (an event derived again): nothing is inserted, the first copy stays.
      insertEvent: db.prepare('INSERT INTO webhook_events (message_id, type, chain, payload, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING'),
      eventByMessage: db.prepare('SELECT id FROM webhook_events WHERE message_id = ?'),
      insertDelivery: db.prepare("INSERT INTO webhook_deliveries (event_id, target, chain, status, next_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)"),
      event: db.prepare('SELECT id, message_id, type, chain, payload, created_at FROM webhook_events WHERE id = ?'),
      pending: db.prepare("SELECT * FROM webhook_deliveries WHERE status = 'pending' AND target = ? ORDER BY id"),
      delivery: db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?'),
      insertAttempt: db.prepare('INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms, error, excerpt) VALUES (?, ?, ?, ?, ?, ?)'),
      settle: db.prepare('UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, updated_at = ?, last_status = ?, last_error = ? WHERE id = ?'),
      requeue: db.prepare("UPDATE webhook_deliveries SET status = 'pending', next_at = ?, updated_at = ? WHERE id = ?"),
      depth: db.prepare("SELECT target, status, COUNT(*) AS n FROM webhook_deliveries WHERE status != 'done' GROUP BY target, status"),
      disable: db.prepare('INSERT INTO webhook_targets (name, disabled_at, reason) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason'),
      enable: db.prepare('UPDATE webhook_targets SET disabled_at = NULL, reason = NULL WHERE name = ?')
    }
    for (const r of db.prepare('SELECT name, disabled_at, reason FROM webhook_targets WHERE disabled_at IS NOT NULL').all() as Array<{ name: string, disabled_at: number, reason: string | null }>) {
      this.disabled.set(r.name, { at: r.disabled_at, reason: r.reason ?? '' })
    }
  }

  get targets (): readonly WebhookTargetConfig[] {
    return this.opts.targets
  }

  /**
   * Stores the event and its deliveries in one transaction, then tells the listeners. Never throws
   * for a storage failure: the event is held in memory and written when the file is writable again
   * (undefined is returned then).
   */
  enqueue (event: CallEvent): number | undefined {
    return this.enqueueMany([event])[0]
  }

  enqueueMany (events: readonly CallEvent[]): number[] {
    let stored: { ids: number[], jobs: DeliveryJob[] } | null = null
    if (this.held.length === 0) {
      try {
        stored = this.insert(events)
      } catch (err) {
        if (!isStorageError(err)) throw err
        this.health.failed('outbox', err)
      }
    }
    const kept = stored
    // Inside a call-state transaction, the rows are only safe once it commits; a rollback (a later
    // write of it failed) would take them with it, so then the events are held instead.
    afterCommit(this.db, {
      committed: () => {
        if (kept === null) {
          this.hold(events)
          return
        }
        this.health.ok()
        if (kept.jobs.length > 0) this.notify(kept.jobs)
      },
      rolledBack: () => { this.hold(events) }
    })
    return kept?.ids ?? []
  }

  /** For /readyz: null when gateway.db is readable and writable, else what is wrong, naming the file. */
  readiness (): string | null {
    if (this.db.readonly) return `${this.db.name} is read-only`
    // A read of the outbox's own table: a file damaged at run time answers SQLITE_CORRUPT here.
    try {
      this.db.prepare('SELECT COUNT(*) FROM webhook_targets').get()
    } catch (err) {
      if (isStorageError(err)) this.health.failed('outbox', err)
      return `cannot read ${this.db.name} (${err instanceof Error ? err.message : String(err)})`
    }
    const problem = this.health.readiness()
    if (problem === null) return null
    return this.held.length > 0 ? `${problem}; ${this.held.length} call events wait in memory` : problem
  }

  /** Events held in memory because gateway.db could not be written. */
  get heldCount (): number {
    return this.held.length
  }

  private hold (events: readonly CallEvent[]): void {
    const max = this.opts.maxHeld ?? 50_000
    const room = Math.max(0, max - this.held.length)
    if (events.length > room) {
      if (!this.refusing) this.log?.error({ file: this.db.name, held: this.held.length }, `gateway.db cannot be written and ${max} events already wait in memory: new call events are REFUSED (lost) until it can; see gateway_events_refused_total`)
      this.refused += events.length - room
      this.refusing = true
    }
    this.held.push(...events.slice(0, room))
    if (this.heldTimer === null && this.held.length > 0) {
      this.heldTimer = setTimeout(() => {
        this.heldTimer = null
        this.writeHeld()
      }, this.opts.retryMs ?? 1000)
      this.heldTimer.unref()
    }
  }

  /** Writes the held events (oldest first, one transaction); keeps them when it fails again. */
  writeHeld (): boolean {
    if (this.held.length === 0) return true
    const events = this.held
    this.held = []
    try {
      const { jobs } = this.insert(events)
      this.health.ok()
      this.refusing = false
      this.log?.info({ events: events.length }, 'events held in memory while gateway.db could not be written are now stored')
      if (jobs.length > 0) this.notify(jobs)
      return true
    } catch (err) {
      if (!isStorageError(err)) throw err
      this.health.failed('outbox', err)
      this.held = events.concat(this.held)
      this.hold([])
      return false
    }
  }

  /** At shutdown: one last try to write held events; says how many are lost if it fails. */
  close (): void {
    if (this.heldTimer !== null) clearTimeout(this.heldTimer)
    this.heldTimer = null
    if (!this.writeHeld()) this.log?.error({ file: this.db.name, events: this.held.length }, `stopping with ${this.held.length} call events that could not be written to gateway.db: they are lost`)
    if (this.heldTimer !== null) clearTimeout(this.heldTimer)
    this.heldTimer = null
  }

  private insert (events: readonly CallEvent[]): { ids: number[], jobs: DeliveryJob[] } {
    const at = this.now()
    const jobs: DeliveryJob[] = []
    const ids = this.db.transaction(() => events.map((e) => {
      const messageId = messageIdOf(e.key, this.opts.idScope)
      const inserted = this.stmt.insertEvent.run(messageId, e.type, e.chain, JSON.stringify(e.payload), at)
      if (inserted.changes === 0) {
        this.rederived++
        this.log?.debug?.({ key: e.key, messageId }, 'call event derived again: the stored copy is kept')
        return (this.stmt.eventByMessage.get(messageId) as { id: number }).id
      }
      const eventId = Number(inserted.lastInsertRowid)
      for (const t of this.opts.targets) {
        if (this.disabled.has(t.name) || !targetWants(t, e)) continue
        const id = Number(this.stmt.insertDelivery.run(eventId, t.name, e.chain, at, at, at).lastInsertRowid)
        jobs.push({ id, eventId, target: t.name, chain: e.chain, attempts: 0, nextAt: at, createdAt: at })
      }
      return eventId
    }))()
    return { ids, jobs }
  }

  onEnqueue (listener: EnqueueListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Pending deliveries of a target, oldest first (for a scheduler starting up). */
  pendingJobs (target: string): DeliveryJob[] {
    return (this.stmt.pending.all(target) as DeliveryRow[]).map(jobOf)
  }

  loadEvent (eventId: number): StoredEvent | null {
    const r = this.stmt.event.get(eventId) as { id: number, message_id: string, type: string, chain: string, payload: string, created_at: number } | undefined
    if (r === undefined) return null
    return { id: r.id, messageId: r.message_id, type: r.type, chain: r.chain, payload: JSON.parse(r.payload) as WebhookPayload, createdAt: r.created_at }
  }

  /**
   * Records one attempt and the delivery's new state, committed with the other outcomes of the same
   * turn of the event loop (one transaction for the responses read together: a commit per delivery
   * made SQLite's commits most of the delivery's cost). Resolves once committed; false when gateway.db
   * could not be written (reported to its StorageHealth): the caller keeps the outcome and tries again.
   */
  async settle (job: DeliveryJob, attempt: AttemptRecord, status: DeliveryStatus, nextAt: number): Promise<boolean> {
    return await this.settles.settle({ job, attempt, status, nextAt })
  }

  private settleMany (items: readonly SettleOutcome[]): boolean {
    if (!this.db.open) return false // closed while the batch gathered (a shutdown cut short): the outcomes stay pending
    return this.health.attempt('delivery log', () => {
      const at = this.now()
      this.db.transaction(() => {
        for (const { job, attempt, status, nextAt } of items) {
          this.stmt.insertAttempt.run(job.id, attempt.at, attempt.statusCode, attempt.durationMs, attempt.error, attempt.excerpt)
          this.stmt.settle.run(status, job.attempts, nextAt, at, attempt.statusCode, attempt.error, job.id)
        }
      })()
    })
  }

  /** Puts a delivery back to pending (any status), to be sent at once. Null when unknown. */
  redeliver (id: number): DeliveryJob | null {
    const at = this.now()
    const row = this.stmt.delivery.get(id) as DeliveryRow | undefined
    if (row === undefined) return null
    this.stmt.requeue.run(at, at, id)
    const job = { ...jobOf(row), nextAt: at }
    this.notify([job])
    return job
  }

  list (q: ListQuery = {}): DeliveryView[] {
    const where: string[] = []
    const args: unknown[] = []
    if (q.status === 'retrying') where.push("d.status = 'pending' AND d.attempts > 0")
    else if (q.status === 'pending') where.push("d.status = 'pending' AND d.attempts = 0")
    else if (q.status !== undefined) { where.push('d.status = ?'); args.push(q.status) }
    if (q.target !== undefined) { where.push('d.target = ?'); args.push(q.target) }
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000)
    const rows = this.db.prepare(`
      SELECT d.*, e.message_id, e.type, json_extract(e.payload, '$.event') AS event_name, json_extract(e.payload, '$.id') AS legacy_id,
             a.at AS a_at, a.status_code AS a_status, a.duration_ms AS a_duration, a.error AS a_error, a.excerpt AS a_excerpt
      FROM webhook_deliveries d
      JOIN webhook_events e ON e.id = d.event_id
      LEFT JOIN webhook_attempts a ON a.id = (SELECT MAX(id) FROM webhook_attempts WHERE delivery_id = d.id)
      ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY d.id DESC LIMIT ${limit}`).all(...args) as DeliveryListRow[]
    return rows.map(deliveryViewOf)
  }

  /** Every attempt of one delivery, oldest first. */
  attempts (deliveryId: number): AttemptRecord[] {
    return (this.db.prepare('SELECT at, status_code, duration_ms, error, excerpt FROM webhook_attempts WHERE delivery_id = ? ORDER BY id').all(deliveryId) as Array<{ at: number, status_code: number | null, duration_ms: number, error: string | null, excerpt: string | null }>)
      .map((r) => ({ at: r.at, statusCode: r.status_code, durationMs: r.duration_ms, error: r.error, excerpt: r.excerpt }))
  }

  /** Pending and failed deliveries per target. */
  depth (): Record<string, { pending: number, failed: number }> {
    const out: Record<string, { pending: number, failed: number }> = {}
    for (const t of this.opts.targets) out[t.name] = { pending: 0, failed: 0 }
    for (const r of this.stmt.depth.all() as Array<{ target: string, status: DeliveryStatus, n: number }>) {
      out[r.target] ??= { pending: 0, failed: 0 }
      if (r.status === 'pending' || r.status === 'failed') out[r.target][r.status] = r.n
    }
    return out
  }

  /** Events waiting to go out: pending deliveries of every target plus events held in memory. */
  depthTotal (): number {
    return Object.values(this.depth()).reduce((n, d) => n + d.pending, 0) + this.heldCount
  }

  /** Disabled at once in memory; on disk too unless gateway.db cannot be written (then until restart). */
  disableTarget (name: string, reason: string): void {
    const at = this.now()
    this.disabled.set(name, { at, reason })
    this.health.attempt('webhook targets', () => { this.stmt.disable.run(name, at, reason) })
  }

  enableTarget (name: string): void {
    this.stmt.enable.run(name)
    this.disabled.delete(name)
  }

  /** Targets switched off by a 410, with when and why. */
  disabledTargets (): ReadonlyMap<string, { at: number, reason: string }> {
    return this.disabled
  }

  /** Deletes finished deliveries (and events nobody needs any more) older than `before` (ms). */
  prune (before: number): number {
    return this.db.transaction(() => {
      const n = this.db.prepare("DELETE FROM webhook_deliveries WHERE status = 'done' AND updated_at < ?").run(before).changes
      this.db.prepare('DELETE FROM webhook_events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)').run(before)
      return n
    })()
  }

  private notify (jobs: DeliveryJob[]): void {
    for (const l of this.listeners) l(jobs)
  }
}
