// What the change feed (callcontrol-feed.ts) learns from when WebSocket events arrived, for a
// snapshot that replaced reads that fell behind (a catch-up): when the participants it shows were
// first announced, and when those it no longer shows went, if their every change had been read.
import type { DNInfo } from './callcontrol-types.js'
import type { ParticipantEvent } from './callcontrol-feed.js'

/** Sets `key` to `at` as the map's newest entry, forgetting the oldest beyond `limit` (a participant whose remove never came). */
export function remember (map: Map<string, number>, key: string, at: number, limit: number): void {
  map.delete(key)
  map.set(key, at)
  if (map.size > limit) map.delete(map.keys().next().value as string)
}

/** dn/id of every participant of a snapshot. */
export function keysOf (dns: readonly DNInfo[]): Set<string> {
  return new Set(dns.flatMap((d) => (d.participants ?? []).map((p) => `${p.dn}/${p.id}`)))
}

/**
 * When the first events of the snapshot's participants arrived (undefined: none did). One announced
 * before the snapshot was requested and missing from it is gone: forgotten.
 */
export function firstEventsOf (firstArrived: Map<string, number>, present: ReadonlySet<string>, requestedAt: number): Record<string, number> | undefined {
  const out: Record<string, number> = {}
  let any = false
  for (const [key, at] of [...firstArrived]) {
    if (present.has(key)) { out[key] = at; any = true } else if (at <= requestedAt) firstArrived.delete(key)
  }
  return any ? out : undefined
}

/**
 * Participants missing from the snapshot whose remove event arrived while it was read (`events`),
 * with no change of theirs left unread (`unread`, upserts `queued` or among `events`): they went when
 * that event arrived, a moment the feed saw, not at some moment of a gap. Undefined: none.
 */
export function removedWhileRead (events: readonly ParticipantEvent[], present: ReadonlySet<string>, unread: ReadonlySet<string>, queued: ReadonlySet<string>): Record<string, number> | undefined {
  const out: Record<string, number> = {}
  const upserted = new Set(events.filter((e) => e.kind === 'upsert').map((e) => `${e.dn}/${e.id}`))
  let any = false
  for (const e of events) {
    const key = `${e.dn}/${e.id}`
    if (e.kind !== 'remove' || e.receivedAt === undefined || present.has(key) || unread.has(key) || queued.has(key) || upserted.has(key) || key in out) continue
    out[key] = e.receivedAt
    any = true
  }
  return any ? out : undefined
}
