// The Call Control event stream as the simulator sends it: engine participant changes become
// `{"sequence":n,"event":{"event_type":0|1,"entity":"/callcontrol/{dn}/participants/{id}",...}}`,
// a caller's keys on a route point event 2 (`attached_data.dtmf_input`), a played prompt event 3,
// with one global rising sequence, an occasional duplicate upsert (seeded, as a real PBX does), and
// a bounded log of what was sent (GET /_sim/events). One instance per simulator context.
import type { CallParticipant, WsEventMessage } from '../../pbx/callcontrol-types.js'
import type { SimContext } from '../sim-context.js'
import { seededRandom, type Random } from '../engine/seeded-random.js'

export interface SentCallControlEvent {
  sequence: number
  /** When it was sent (ms since epoch). */
  sentAt: number
  /** 0 upsert, 1 remove, 2 DTMF string, 3 prompt playback finished. */
  event_type: 0 | 1 | 2 | 3
  entity: string
  dn: string
  participantId: number
  /** A deliberate repeat of the previous upsert (the real PBX's quirk). */
  duplicate: boolean
  /** The participant as it was when the event was sent (for a remove: its last state). */
  participant: CallParticipant
  /** The keys pressed (event 2 only). */
  dtmf?: string
}

export type CallControlEventListener = (event: SentCallControlEvent, message: string) => void

export const EVENT_LOG_LIMIT = 20_000
/** Share of upserts sent twice. */
export const DUPLICATE_UPSERT_RATE = 0.05

export function entityPath (dn: string, id: number): string {
  return `/callcontrol/${encodeURIComponent(dn)}/participants/${id}`
}

export class CallControlEvents {
  private sequence = 0
  private log: SentCallControlEvent[] = []
  private readonly listeners = new Set<CallControlEventListener>()
  private readonly random: Random

  constructor (ctx: SimContext, readonly duplicateRate = DUPLICATE_UPSERT_RATE) {
    this.random = seededRandom(ctx.seed + 7)
    ctx.engine.onParticipantEvent((e) => {
      if (e.type === 'dtmf') this.send(2, e.participant, false, e.digits)
      else if (e.type === 'promptFinished') this.send(3, e.participant, false)
      else {
        this.send(e.type === 'upsert' ? 0 : 1, e.participant, false)
        if (e.type === 'upsert' && this.random() < this.duplicateRate) this.send(0, e.participant, true)
      }
    })
    ctx.engine.onReset(() => { this.clear() })
  }

  subscribe (listener: CallControlEventListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Sent events with a sequence greater than `since`, oldest first. */
  since (since = 0): SentCallControlEvent[] {
    return this.log.filter((e) => e.sequence > since)
  }

  get lastSequence (): number { return this.sequence }

  /** The next number of the global sequence, for a message sent to one socket only (a type-4 response; not logged). */
  reserveSequence (): number { return ++this.sequence }

  clear (): void {
    this.log = []
  }

  private send (eventType: SentCallControlEvent['event_type'], p: CallParticipant, duplicate: boolean, dtmf?: string): void {
    const entity = entityPath(p.dn, p.id)
    const event: SentCallControlEvent = {
      sequence: ++this.sequence,
      sentAt: Date.now(),
      event_type: eventType,
      entity,
      dn: p.dn,
      participantId: p.id,
      duplicate,
      participant: p,
      ...(dtmf === undefined ? {} : { dtmf })
    }
    this.log.push(event)
    if (this.log.length > EVENT_LOG_LIMIT + 1000) this.log = this.log.slice(-EVENT_LOG_LIMIT)
    const attached = dtmf === undefined ? null : { dtmf_input: dtmf }
    const wire: WsEventMessage = { sequence: event.sequence, event: { event_type: eventType, entity, attached_data: attached } }
    const message = JSON.stringify(wire)
    for (const listener of this.listeners) listener(event, message)
  }
}

const perContext = new WeakMap<SimContext, CallControlEvents>()

/** The event stream of a simulator context (created on first use, i.e. when the plugin registers). */
export function callControlEventsOf (ctx: SimContext): CallControlEvents {
  let events = perContext.get(ctx)
  if (events === undefined) {
    events = new CallControlEvents(ctx)
    perContext.set(ctx, events)
  }
  return events
}
