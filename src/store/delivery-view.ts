// A `webhook_deliveries` row (the same columns in SQLite and PostgreSQL) as the scheduler's job, and a
// row of the delivery-log listing (the delivery, its event's ids, the last attempt as a_*) as
// GET /webhooks/deliveries shows it.
import type { DeliveryJob, DeliveryStatus, DeliveryView } from '../webhooks/outbox-store.js'

export interface DeliveryRow {
  id: number
  event_id: number
  target: string
  chain: string
  status: DeliveryStatus
  attempts: number
  next_at: number
  created_at: number
  updated_at: number
  last_status: number | null
  last_error: string | null
}

export type DeliveryListRow = DeliveryRow & Record<string, unknown>

export function jobOf (r: Pick<DeliveryRow, 'id' | 'event_id' | 'target' | 'chain' | 'attempts' | 'next_at' | 'created_at'>): DeliveryJob {
  return { id: r.id, eventId: r.event_id, target: r.target, chain: r.chain, attempts: r.attempts, nextAt: r.next_at, createdAt: r.created_at }
}

export function deliveryViewOf (r: DeliveryListRow): DeliveryView {
  const iso = (ms: number): string => new Date(ms).toISOString()
  return {
    id: r.id,
    eventId: r.event_id,
    messageId: String(r.message_id),
    event: String(r.event_name ?? r.type),
    legacyId: String(r.legacy_id ?? ''),
    target: r.target,
    chain: r.chain,
    status: r.status === 'pending' && r.attempts > 0 ? 'retrying' : r.status,
    attempts: r.attempts,
    nextAt: r.status === 'pending' ? iso(r.next_at) : null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    lastAttempt: r.a_at == null
      ? null
      : { at: iso(Number(r.a_at)), statusCode: r.a_status as number | null, durationMs: Number(r.a_duration), error: r.a_error as string | null, excerpt: r.a_excerpt as string | null }
  }
}
