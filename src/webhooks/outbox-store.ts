// The outbox as its users see it (the port): delivery, the webhook routes, the call model's and the
// recordings' event intake and the composition root depend on this interface, never on SQLite. The
// adapter is store/sqlite-outbox.ts: one event row plus one delivery row per matching target, in
// one transaction, before anything else happens to the event; events held in memory while the file
// cannot be written.
import type { WebhookTargetConfig } from '../config.js'
import type { CallEvent, WebhookPayload } from '../calls/call-events.js'
import type { StorageHealth } from '../storage-health.js'

export type DeliveryStatus = 'pending' | 'done' | 'failed'
/** As listed: `retrying` is a pending delivery that has been tried and failed at least once. */
export type ListedStatus = DeliveryStatus | 'retrying'
export const LISTED_STATUSES: readonly ListedStatus[] = ['pending', 'retrying', 'done', 'failed']

/** What the delivery scheduler needs of a pending delivery (the payload is loaded when sent). */
export interface DeliveryJob {
  id: number
  eventId: number
  target: string
  chain: string
  attempts: number
  nextAt: number
  createdAt: number
  /** An attempt gateway.db could not record yet (disk full): recorded before anything else is sent. */
  unsettled?: { attempt: AttemptRecord, status: DeliveryStatus, nextAt: number }
}

export interface StoredEvent {
  id: number
  messageId: string
  type: string
  chain: string
  payload: WebhookPayload
  createdAt: number
}

export interface AttemptRecord {
  at: number
  statusCode: number | null
  durationMs: number
  error: string | null
  excerpt: string | null
}

/** One attempt to record and its delivery's new state: settle()'s arguments, as the stores batch them. */
export interface SettleOutcome {
  job: DeliveryJob
  attempt: AttemptRecord
  status: DeliveryStatus
  nextAt: number
}

export interface DeliveryView {
  id: number
  eventId: number
  messageId: string
  event: string
  legacyId: string
  target: string
  chain: string
  status: ListedStatus
  attempts: number
  nextAt: string | null
  createdAt: string
  updatedAt: string
  lastStatus: number | null
  lastError: string | null
  lastAttempt: { at: string, statusCode: number | null, durationMs: number, error: string | null, excerpt: string | null } | null
}

export interface ListQuery { status?: ListedStatus, target?: string, limit?: number }

export type EnqueueListener = (jobs: DeliveryJob[]) => void

export interface OutboxLog {
  error: (obj: unknown, msg?: string) => void
  info: (obj: unknown, msg?: string) => void
  debug?: (obj: unknown, msg?: string) => void
}

// Reads and writes answer at once on SQLite and with a promise on PostgreSQL (store/pg/): callers
// await them. enqueue, pendingJobs (at start) and depth stay synchronous on both.
export interface OutboxStore {
  /** The configured targets (disabled ones included). */
  readonly targets: readonly WebhookTargetConfig[]
  /** The storage health shared by every writer of the file. */
  readonly health: StorageHealth
  log: OutboxLog | undefined
  /** Events refused because too many were held in memory (lost: counted, logged). */
  readonly refused: number
  /** Events not stored because an event of the same key was (derived again after a takeover); counted, logged at debug. */
  readonly rederived: number
  /** Events held in memory because the file could not be written. */
  readonly heldCount: number
  /**
   * Stores the event and its deliveries, then tells the listeners. Never throws for a storage
   * failure: the event is held in memory and stored later (undefined is returned then).
   */
  enqueue(event: CallEvent): number | undefined
  enqueueMany(events: readonly CallEvent[]): number[]
  onEnqueue(listener: EnqueueListener): () => void
  /** Pending deliveries of a target, oldest first (for a scheduler starting up). */
  pendingJobs(target: string): DeliveryJob[]
  loadEvent(eventId: number): StoredEvent | null | Promise<StoredEvent | null>
  /** Records one attempt and the delivery's new state; false when the file could not be written. */
  settle(job: DeliveryJob, attempt: AttemptRecord, status: DeliveryStatus, nextAt: number): boolean | Promise<boolean>
  /** Puts a delivery back to pending, to be sent at once. Null when unknown. */
  redeliver(id: number): DeliveryJob | null | Promise<DeliveryJob | null>
  list(q?: ListQuery): DeliveryView[] | Promise<DeliveryView[]>
  attempts(deliveryId: number): AttemptRecord[] | Promise<AttemptRecord[]>
  /** Pending and failed deliveries per target. */
  depth(): Record<string, { pending: number, failed: number }>
  /** Events waiting to go out: pending deliveries of every target plus events held in memory. */
  depthTotal(): number
  disableTarget(name: string, reason: string): void
  enableTarget(name: string): void
  disabledTargets(): ReadonlyMap<string, { at: number, reason: string }>
  /** Deletes finished deliveries older than `before` (ms); how many. */
  prune(before: number): number | Promise<number>
  /** For /readyz: null when the outbox can be read and written, else what is wrong. */
  readiness(): string | null | Promise<string | null>
  /** At shutdown: one last try to store held events. */
  close(): void | Promise<void>
}

/** Does the target want this event (types, extensions, DID rules; empty filter = all)? */
export function targetWants (t: WebhookTargetConfig, e: Pick<CallEvent, 'type' | 'user' | 'did'>): boolean {
  if (t.events.length > 0 && !t.events.includes(e.type)) return false
  if (t.extensions.length > 0 && !t.extensions.includes(e.user)) return false
  if (t.didRules.length > 0 && !t.didRules.includes(e.did)) return false
  return true
}

