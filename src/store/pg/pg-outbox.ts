// The outbox on PostgreSQL (DATABASE_URL): the same tables as store/sqlite-outbox.ts, asynchronous,
// and shared by any number of consumers (gateway processes). A consumer takes deliveries with
// claim(): per target and call chain only the oldest pending delivery is ever handed out, taken
// with FOR UPDATE SKIP LOCKED and leased to the consumer (claimed_by / claimed_until), so two
// consumers never send one delivery at once and a chain's events go out in order; a consumer that
// dies leaves its lease to expire and another one sends the delivery again (at-least-once).
// Round trips are counted, not deliveries: a batch of events is stored with two statements, a
// claim brings the claimed events' payloads along, and settleMany() records a batch of attempts
// and their deliveries' new states in one statement (one transaction).
import type pg from 'pg'
import type { WebhookTargetConfig } from '../../config.js'
import type { CallEvent, WebhookPayload } from '../../calls/call-events.js'
import { targetWants, type AttemptRecord, type DeliveryJob, type DeliveryStatus, type DeliveryView, type ListQuery, type SettleOutcome, type StoredEvent } from '../../webhooks/outbox-store.js'
import { messageIdOf } from '../../webhooks/message-id.js'
import { inTransaction, type PgStore } from './pg-pool.js'
import type { PgWrite } from './pg-write-behind.js'
import { isPgStorageError } from '../../storage-health.js'
import { deliveryViewOf, jobOf, type DeliveryListRow, type DeliveryRow } from '../delivery-view.js'

export interface PgOutboxOptions {
  targets: readonly WebhookTargetConfig[]
  now?: () => number
  /** The PBX the events come from, in their webhook ids (webhooks/message-id.ts). */
  idScope?: string
}

export interface ClaimOptions {
  /** Most deliveries handed out by one claim (default 100). */
  limit?: number
  /** How long the consumer may take to settle them before another one may (ms; default 60000). */
  leaseMs?: number
}

/** settle()'s arguments, and how long a retry keeps its lease. */
export interface SettleItem extends SettleOutcome {
  /** A retry keeps its lease this long (the consumer retries it itself); null ends it. */
  leaseUntil: number | null
}

/** The attempts in one statement, then every delivery's new state: atomic as one statement is. */
const SETTLE = `
  WITH s AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bigint[], $10::bigint[])
      WITH ORDINALITY AS s(id, at, status_code, duration_ms, error, excerpt, status, attempts, next_at, lease, n)
  ), a AS (
    INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms, error, excerpt)
    SELECT id, at, status_code, duration_ms, error, excerpt FROM s ORDER BY n
  )
  UPDATE webhook_deliveries d SET status = s.status, attempts = s.attempts, next_at = s.next_at, updated_at = $11,
    last_status = s.status_code, last_error = s.error,
    claimed_by = CASE WHEN s.lease IS NULL THEN NULL ELSE d.claimed_by END, claimed_until = s.lease
  FROM s WHERE d.id = s.id`

/**
 * The heads of the pending chains (oldest pending delivery per target and chain), due, not leased,
 * of targets not disabled; locked so that a concurrent claim skips them instead of waiting.
 */
const CLAIM = `
  WITH heads AS (
    SELECT DISTINCT ON (target, chain) id FROM webhook_deliveries
    WHERE status = 'pending' ORDER BY target, chain, id
  )
  SELECT d.id, d.event_id, d.target, d.chain, d.attempts, d.next_at, d.created_at
  FROM webhook_deliveries d JOIN heads h ON h.id = d.id
  WHERE d.status = 'pending' AND d.next_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until < $1)
    AND NOT EXISTS (SELECT 1 FROM webhook_targets t WHERE t.name = d.target AND t.disabled_at IS NOT NULL)
  ORDER BY d.id LIMIT $2
  FOR UPDATE OF d SKIP LOCKED`

/**
 * claimChains(): the same heads as CLAIM, then every pending delivery of their chains, in id order.
 * Only the heads are locked: a chain is another consumer's while its head is leased to it.
 */
const CLAIM_CHAINS = `
  WITH heads AS (
    SELECT DISTINCT ON (target, chain) id FROM webhook_deliveries
    WHERE status = 'pending' ORDER BY target, chain, id
  ), free AS (
    SELECT d.target, d.chain FROM webhook_deliveries d JOIN heads h ON h.id = d.id
    WHERE d.status = 'pending' AND d.next_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until < $1)
      AND NOT EXISTS (SELECT 1 FROM webhook_targets t WHERE t.name = d.target AND t.disabled_at IS NOT NULL)
    ORDER BY d.id LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
  )
  SELECT d.id, d.event_id, d.target, d.chain, d.attempts, d.next_at, d.created_at,
    e.message_id AS e_message_id, e.type AS e_type, e.payload AS e_payload, e.created_at AS e_created_at
  FROM webhook_deliveries d JOIN free f ON f.target = d.target AND f.chain = d.chain
  JOIN webhook_events e ON e.id = d.event_id
  WHERE d.status = 'pending' ORDER BY d.id`

export class PgOutbox {
  private readonly pool: pg.Pool
  private readonly now: () => number

  constructor (private readonly store: PgStore, private readonly opts: PgOutboxOptions) {
    this.pool = store.pool
    this.now = opts.now ?? Date.now
  }

  get targets (): readonly WebhookTargetConfig[] {
    return this.opts.targets
  }

  /** Runs a write; a lost database is reported to storage health and rethrown (the caller keeps its data). */
  private async write<T>(where: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn()
      this.store.health.ok()
      return out
    } catch (err) {
      if (isPgStorageError(err)) this.store.health.failed(where, err)
      throw err
    }
  }

  /** Stores events and one delivery per matching, enabled target, in one transaction; their ids. */
  async enqueueMany (events: readonly CallEvent[]): Promise<number[]> {
    return (await this.insert(events)).ids
  }

  /**
   * enqueueMany, with the deliveries it made (for the delivery scheduler). The events, then their
   * deliveries, each in one statement: ids are drawn in the order of the rows (ORDER BY the
   * ordinality), so a chain's deliveries keep their events' order. `alongside` (the call state
   * written with its events: PgOutboxStore.alongside) runs in the same transaction, after them.
   */
  async insert (events: readonly CallEvent[], alongside: readonly PgWrite[] = []): Promise<{ ids: number[], jobs: DeliveryJob[], rederived: CallEvent[] }> {
    if (events.length === 0 && alongside.length === 0) return { ids: [], jobs: [], rederived: [] }
    return await this.write('outbox', async () => await inTransaction(this.pool, async (c) => {
      const out = events.length === 0 ? { ids: [], jobs: [], rederived: [] } : await this.insertIn(c, events)
      for (const w of alongside) await w(c)
      return out
    }))
  }

  private async insertIn (c: pg.PoolClient, events: readonly CallEvent[]): Promise<{ ids: number[], jobs: DeliveryJob[], rederived: CallEvent[] }> {
    const at = this.now()
    const disabled = new Set((await c.query<{ name: string }>('SELECT name FROM webhook_targets WHERE disabled_at IS NOT NULL')).rows.map((r) => r.name))
    const messageIds = events.map((e) => messageIdOf(e.key, this.opts.idScope))
    // A key stored already (an event derived again after a takeover): the first copy stays.
    const { rows } = await c.query<{ id: number, message_id: string }>(`
      INSERT INTO webhook_events (message_id, type, chain, payload, created_at)
      SELECT m, t, c, p::jsonb, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e(m, t, c, p, n) ORDER BY n
      ON CONFLICT (message_id) DO NOTHING
      RETURNING id, message_id`, [messageIds, events.map((e) => e.type), events.map((e) => e.chain), events.map((e) => JSON.stringify(e.payload)), at])
    const idOf = new Map(rows.map((r) => [r.message_id, r.id]))
    const fresh = messageIds.map((m, i) => messageIds.indexOf(m) === i && idOf.has(m))
    const again = messageIds.filter((m) => !idOf.has(m))
    if (again.length > 0) {
      for (const r of (await c.query<{ id: number, message_id: string }>('SELECT id, message_id FROM webhook_events WHERE message_id = ANY($1::text[])', [again])).rows) idOf.set(r.message_id, r.id)
    }
    const ids = messageIds.map((m) => idOf.get(m) as number)
    const rederived = events.filter((_, i) => !fresh[i])
    const wanted: Array<{ eventId: number, target: string, chain: string }> = []
    events.forEach((e, i) => {
      if (!fresh[i]) return
      for (const t of this.opts.targets) if (!disabled.has(t.name) && targetWants(t, e)) wanted.push({ eventId: ids[i], target: t.name, chain: e.chain })
    })
    if (wanted.length === 0) return { ids, jobs: [], rederived }
    const d = await c.query<{ id: number, event_id: number, target: string }>(`
      INSERT INTO webhook_deliveries (event_id, target, chain, status, next_at, created_at, updated_at)
      SELECT e, t, c, 'pending', $4, $4, $4 FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS w(e, t, c, n) ORDER BY n
      RETURNING id, event_id, target`, [wanted.map((w) => w.eventId), wanted.map((w) => w.target), wanted.map((w) => w.chain), at])
    const deliveryOf = new Map(d.rows.map((r) => [`${r.event_id} ${r.target}`, r.id]))
    const jobs = wanted.map((w) => ({ id: deliveryOf.get(`${w.eventId} ${w.target}`) as number, eventId: w.eventId, target: w.target, chain: w.chain, attempts: 0, nextAt: at, createdAt: at }))
    return { ids, jobs, rederived }
  }

  /** Hands out due deliveries to `consumer` (see above); none twice while leased. */
  async claim (consumer: string, o: ClaimOptions = {}): Promise<DeliveryJob[]> {
    const at = this.now()
    return await this.write('outbox', async () => await inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<DeliveryRow>(CLAIM, [at, o.limit ?? 100])
      if (rows.length > 0) {
        await c.query('UPDATE webhook_deliveries SET claimed_by = $1, claimed_until = $2 WHERE id = ANY($3::bigint[])', [consumer, at + (o.leaseMs ?? 60_000), rows.map((r) => r.id)])
      }
      return rows.map(jobOf)
    }))
  }

  /**
   * Like claim(), but hands out whole chains (up to `limit` of them): every pending delivery of each,
   * leased to `consumer`, which must send them in id order. One claim per chain instead of per event.
   * `events`: receives the claimed deliveries' events (read with the claim, not one by one later).
   */
  async claimChains (consumer: string, o: ClaimOptions = {}, events?: Map<number, StoredEvent>): Promise<DeliveryJob[]> {
    const at = this.now()
    return await this.write('outbox', async () => await inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<DeliveryRow & { e_message_id: string, e_type: string, e_payload: WebhookPayload, e_created_at: number }>(CLAIM_CHAINS, [at, o.limit ?? 100])
      if (rows.length > 0) {
        await c.query('UPDATE webhook_deliveries SET claimed_by = $1, claimed_until = $2 WHERE id = ANY($3::bigint[])', [consumer, at + (o.leaseMs ?? 60_000), rows.map((r) => r.id)])
      }
      for (const r of rows) events?.set(r.event_id, { id: r.event_id, messageId: r.e_message_id, type: r.e_type, chain: r.chain, payload: r.e_payload, createdAt: r.e_created_at })
      return rows.map(jobOf)
    }))
  }

  /** Ends the leases `consumer` holds on pending deliveries (it stops): others claim them at once. */
  async release (consumer: string): Promise<void> {
    await this.pool.query("UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND status = 'pending'", [consumer])
  }

  /** Pending deliveries of a target, oldest first. */
  async pendingJobs (target: string): Promise<DeliveryJob[]> {
    return (await this.pool.query<DeliveryRow>("SELECT * FROM webhook_deliveries WHERE status = 'pending' AND target = $1 ORDER BY id", [target])).rows.map(jobOf)
  }

  async loadEvent (eventId: number): Promise<StoredEvent | null> {
    const r = (await this.pool.query<{ id: number, message_id: string, type: string, chain: string, payload: WebhookPayload, created_at: number }>(
      'SELECT id, message_id, type, chain, payload, created_at FROM webhook_events WHERE id = $1', [eventId])).rows[0]
    return r === undefined ? null : { id: r.id, messageId: r.message_id, type: r.type, chain: r.chain, payload: r.payload, createdAt: r.created_at }
  }

  /**
   * Records one attempt and the delivery's new state, and ends its lease (or, with `leaseUntil`,
   * keeps it that long: the consumer retries it itself). False when the database could not be written.
   */
  async settle (job: DeliveryJob, attempt: AttemptRecord, status: DeliveryStatus, nextAt: number, leaseUntil: number | null = null): Promise<boolean> {
    return await this.settleMany([{ job, attempt, status, nextAt, leaseUntil }])
  }

  /** settle() for a batch, in one statement: all recorded, or none (false when the database could not be written). */
  async settleMany (items: readonly SettleItem[]): Promise<boolean> {
    if (items.length === 0) return true
    const col = <T>(f: (i: SettleItem) => T): T[] => items.map(f)
    try {
      await this.write('delivery log', async () => await this.pool.query(SETTLE, [
        col((i) => i.job.id), col((i) => i.attempt.at), col((i) => i.attempt.statusCode), col((i) => i.attempt.durationMs), col((i) => i.attempt.error),
        col((i) => i.attempt.excerpt), col((i) => i.status), col((i) => i.job.attempts), col((i) => i.nextAt), col((i) => (i.status === 'pending' ? i.leaseUntil : null)), this.now()
      ]))
      return true
    } catch (err) {
      if (isPgStorageError(err)) return false
      throw err
    }
  }

  /** Puts a delivery back to pending (any status), due now. Null when unknown. */
  async redeliver (id: number): Promise<DeliveryJob | null> {
    const at = this.now()
    const r = (await this.write('delivery log', async () => await this.pool.query<DeliveryRow>(
      "UPDATE webhook_deliveries SET status = 'pending', next_at = $1, updated_at = $1, claimed_by = NULL, claimed_until = NULL WHERE id = $2 RETURNING *", [at, id]))).rows[0]
    return r === undefined ? null : jobOf(r)
  }

  /** The delivery log as GET /webhooks/deliveries lists it, newest first. */
  async list (q: ListQuery = {}): Promise<DeliveryView[]> {
    const where: string[] = []
    const args: unknown[] = []
    if (q.status === 'retrying') where.push("d.status = 'pending' AND d.attempts > 0")
    else if (q.status === 'pending') where.push("d.status = 'pending' AND d.attempts = 0")
    else if (q.status !== undefined) { args.push(q.status); where.push(`d.status = $${args.length}`) }
    if (q.target !== undefined) { args.push(q.target); where.push(`d.target = $${args.length}`) }
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000)
    const rows = (await this.pool.query<DeliveryListRow>(`
      SELECT d.*, e.message_id, e.type, e.payload->>'event' AS event_name, e.payload->>'id' AS legacy_id,
             a.at AS a_at, a.status_code AS a_status, a.duration_ms AS a_duration, a.error AS a_error, a.excerpt AS a_excerpt
      FROM webhook_deliveries d
      JOIN webhook_events e ON e.id = d.event_id
      LEFT JOIN LATERAL (SELECT * FROM webhook_attempts WHERE delivery_id = d.id ORDER BY id DESC LIMIT 1) a ON true
      ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY d.id DESC LIMIT ${limit}`, args)).rows
    return rows.map(deliveryViewOf)
  }

  /** Every attempt of one delivery, oldest first. */
  async attempts (deliveryId: number): Promise<AttemptRecord[]> {
    return (await this.pool.query<{ at: number, status_code: number | null, duration_ms: number, error: string | null, excerpt: string | null }>(
      'SELECT at, status_code, duration_ms, error, excerpt FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id', [deliveryId])).rows
      .map((r) => ({ at: r.at, statusCode: r.status_code, durationMs: r.duration_ms, error: r.error, excerpt: r.excerpt }))
  }

  /** Pending and failed deliveries per target. */
  async depth (): Promise<Record<string, { pending: number, failed: number }>> {
    const out: Record<string, { pending: number, failed: number }> = {}
    for (const t of this.opts.targets) out[t.name] = { pending: 0, failed: 0 }
    for (const r of (await this.pool.query<{ target: string, status: DeliveryStatus, n: number }>("SELECT target, status, COUNT(*)::int AS n FROM webhook_deliveries WHERE status != 'done' GROUP BY target, status")).rows) {
      out[r.target] ??= { pending: 0, failed: 0 }
      if (r.status === 'pending' || r.status === 'failed') out[r.target][r.status] = r.n
    }
    return out
  }

  async disableTarget (name: string, reason: string): Promise<void> {
    await this.write('webhook targets', async () => { await this.pool.query('INSERT INTO webhook_targets (name, disabled_at, reason) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason', [name, this.now(), reason]) })
  }

  async enableTarget (name: string): Promise<void> {
    await this.write('webhook targets', async () => { await this.pool.query('UPDATE webhook_targets SET disabled_at = NULL, reason = NULL WHERE name = $1', [name]) })
  }

  async disabledTargets (): Promise<Map<string, { at: number, reason: string }>> {
    const rows = (await this.pool.query<{ name: string, disabled_at: number, reason: string | null }>('SELECT name, disabled_at, reason FROM webhook_targets WHERE disabled_at IS NOT NULL')).rows
    return new Map(rows.map((r) => [r.name, { at: r.disabled_at, reason: r.reason ?? '' }]))
  }

  /** Deletes finished deliveries (and events nobody needs any more) older than `before` (ms). */
  async prune (before: number): Promise<number> {
    return await this.write('outbox', async () => await inTransaction(this.pool, async (c) => {
      const n = (await c.query("DELETE FROM webhook_deliveries WHERE status = 'done' AND updated_at < $1", [before])).rowCount ?? 0
      await c.query('DELETE FROM webhook_events e WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)', [before])
      return n
    }))
  }
}
