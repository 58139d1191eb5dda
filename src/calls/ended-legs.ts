// Call-ended payloads of finished legs, kept for a while so the recordings pipeline can build the
// `recording` event (and RECORDING_FULL_INFO's extra fields) once the file is ready.
import { LRUCache } from 'lru-cache'
import type { EndedPayload } from './call-events.js'
import { parseLegacyCallId } from './legacy-call-id.js'

export interface EndedLeg {
  payload: EndedPayload
  callid: number
  /** When the conversation started (ms), or when the link started ringing for a missed call. */
  startedAt: number
  endedAt: number
}

export interface EndedLegStoreOptions {
  /** Entries kept at most; default 20,000. */
  max?: number
  /** How long an entry is kept; default 6 hours (recordings arrive within seconds to minutes). */
  ttlMs?: number
}

export class EndedLegStore {
  private readonly byId: LRUCache<string, EndedLeg[]>

  constructor (opts: EndedLegStoreOptions = {}) {
    this.byId = new LRUCache({ max: opts.max ?? 20_000, ttl: opts.ttlMs ?? 6 * 3_600_000 })
  }

  /** Remembers an ended payload (a transferred leg and its later end share one id: both are kept). */
  add (payload: EndedPayload): void {
    const parsed = parseLegacyCallId(payload.id)
    const endedAt = Date.parse(payload.timestamp)
    const leg: EndedLeg = { payload, callid: parsed?.callid ?? 0, startedAt: endedAt - payload.duration * 1000, endedAt }
    const list = this.byId.get(payload.id)
    if (list === undefined) this.byId.set(payload.id, [leg])
    else list.push(leg)
  }

  /** The final call-ended payload of a leg by legacy id (the last one when a link ended twice). */
  get (legacyId: string): EndedPayload | null {
    const list = this.byId.get(legacyId)
    return list === undefined ? null : list[list.length - 1].payload
  }

  /**
   * Finds the leg a recording belongs to: same 3CX callid and extension, conversation around `at`
   * (ms; e.g. the recording's start time). Newest first when several match.
   */
  findLeg (q: { callid: number, user: string, at?: number }): EndedLeg | null {
    let best: EndedLeg | null = null
    for (const list of this.byId.values()) {
      for (const leg of list) {
        if (leg.callid !== q.callid || leg.payload.user !== q.user) continue
        if (q.at !== undefined && (q.at < leg.startedAt - 5_000 || q.at > leg.endedAt + 5_000)) continue
        if (best === null || leg.endedAt > best.endedAt) best = leg
      }
    }
    return best
  }

  get size (): number {
    return this.byId.size
  }
}
