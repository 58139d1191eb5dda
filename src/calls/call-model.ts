// The live call model: every call in progress, built from the Call Control participant stream,
// answered from memory for the legacy routes, and the source of the call webhooks. One CallTracker
// per callid does the derivation; this class routes changes to trackers, runs their grace timers,
// keeps per-DN busy/talking counts and caches the call list until the next change.
import type { CallControlDnType, CallParticipant, ParticipantChange, ParticipantStatus } from '../pbx/callcontrol-types.js'
import type { CallModelView, LiveCall } from './live-call.js'
import type { CallEvent, EndedPayload } from './call-events.js'
import type { DidQuery } from './did-map.js'
import { CallTracker, legKey } from './event-derivation.js'
import { chainId, legacyCallId, legacyTimePrefix } from './legacy-call-id.js'
import { EndedLegStore } from './ended-legs.js'

export interface CallModelOptions {
  /** PBX time zone for the legacy id's time prefix (`PBX_TIMEZONE`). */
  timeZone: string
  /** `CALL_END_GRACE_MS`. */
  graceMs: number
  /** `WEBHOOK_INTERNAL_CALLS`: false suppresses the events of internal calls. */
  internalCalls: boolean
  /** Receives every derived event, in order. Must not throw (errors are logged and swallowed). */
  onEvent?: (e: CallEvent) => void
  didLookup?: (q: DidQuery) => string
  endedLegs?: EndedLegStore
  now?: () => number
  log?: { error: (obj: unknown, msg?: string) => void }
}

/** How long a makecall reservation waits for its first participant. */
const RESERVATION_TTL_MS = 120_000

export class CallModel implements CallModelView {
  readonly endedLegs: EndedLegStore
  private readonly calls = new Map<number, CallTracker>()
  private readonly legCall = new Map<string, number>()
  private readonly busy = new Map<string, number>()
  private readonly talking = new Map<string, number>()
  private readonly timers = new Map<number, { at: number, timer: NodeJS.Timeout }>()
  private readonly reservations = new Map<number, { chid: string, until: number }>()
  private listCache: readonly LiveCall[] | null = null
  private readonly now: () => number
  private stopped = false
  /** Events emitted since start, by type (for metrics). */
  readonly eventCounts = { ringing: 0, started: 0, ended: 0 }

  constructor (private readonly opts: CallModelOptions) {
    this.now = opts.now ?? Date.now
    this.endedLegs = opts.endedLegs ?? new EndedLegStore()
  }

  /** The Call Control client's listener. */
  apply (change: ParticipantChange): void {
    if (this.stopped) return
    if (change.kind === 'upsert') this.upsert(change.participant, change.dnType, change.at)
    else if (change.kind === 'remove') this.remove(change.dn, change.id, change.at)
    else this.resync(change.dns.flatMap((d) => d.participants.map((p) => ({ p, dnType: d.type }))), change.at)
  }

  list (): readonly LiveCall[] {
    if (this.listCache === null) {
      const out: LiveCall[] = []
      for (const t of this.calls.values()) if (!t.finished && t.legCount > 0) out.push(t.view())
      this.listCache = out
    }
    return this.listCache
  }

  size (): number {
    return this.list().length
  }

  isBusy (dn: string): boolean {
    return (this.busy.get(dn) ?? 0) > 0
  }

  isTalking (dn: string): boolean {
    return (this.talking.get(dn) ?? 0) > 0
  }

  reserve (callid: number, at: number): { chid: string, legacyId: string } {
    const t = this.calls.get(callid)
    if (t !== undefined && !t.finished) return { chid: t.chid, legacyId: t.legacyId }
    const now = this.now()
    for (const [id, r] of this.reservations) if (r.until < now) this.reservations.delete(id)
    let r = this.reservations.get(callid)
    if (r === undefined) {
      r = { chid: chainId(legacyTimePrefix(at, this.opts.timeZone), callid), until: now + RESERVATION_TTL_MS }
      this.reservations.set(callid, r)
    }
    return { chid: r.chid, legacyId: legacyCallId(r.chid, 0) }
  }

  /** The call-ended payload of a finished leg, by legacy id (for the recordings pipeline). */
  endedLeg (legacyId: string): EndedPayload | null {
    return this.endedLegs.get(legacyId)
  }

  /** Stops the grace timers; later changes are ignored. Pending ends are not emitted. */
  stop (): void {
    this.stopped = true
    for (const { timer } of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  private upsert (p: CallParticipant, dnType: CallControlDnType, at: number): void {
    const key = legKey(p.dn, p.id)
    const knownCall = this.legCall.get(key)
    if (knownCall !== undefined && knownCall !== p.callid) this.remove(p.dn, p.id, at) // leg moved to another call
    const tracker = this.trackerFor(p.callid, at)
    const before = tracker.legStatus(key)
    const events = tracker.upsert(p, dnType, at)
    const after = tracker.legStatus(key)
    if (after !== undefined) this.legCall.set(key, p.callid)
    this.count(p.dn, before, after)
    this.settle(tracker, events)
  }

  private remove (dn: string, id: number, at: number): void {
    const key = legKey(dn, id)
    const callid = this.legCall.get(key)
    if (callid === undefined) return // never seen: nothing to undo
    this.legCall.delete(key)
    const tracker = this.calls.get(callid)
    if (tracker === undefined) return
    const before = tracker.legStatus(key)
    const events = tracker.remove(dn, id, at)
    this.count(dn, before, undefined)
    this.settle(tracker, events)
  }

  /** Reconciles with a full snapshot: vanished legs are removed, new or changed legs upserted. */
  private resync (entries: Array<{ p: CallParticipant, dnType: CallControlDnType }>, at: number): void {
    const present = new Set(entries.map((e) => legKey(e.p.dn, e.p.id)))
    for (const key of [...this.legCall.keys()]) {
      if (present.has(key)) continue
      const hash = key.lastIndexOf('#')
      this.remove(key.slice(0, hash), Number(key.slice(hash + 1)), at)
    }
    // Oldest participants first, so a call's direction comes from its first legs.
    for (const { p, dnType } of [...entries].sort((a, b) => a.p.id - b.p.id)) this.upsert(p, dnType, at)
  }

  private trackerFor (callid: number, at: number): CallTracker {
    let t = this.calls.get(callid)
    if (t !== undefined && t.finished) {
      this.forget(callid)
      t = undefined
    }
    if (t === undefined) {
      const reserved = this.reservations.get(callid)
      this.reservations.delete(callid)
      t = new CallTracker({
        callid,
        chid: reserved?.chid ?? chainId(legacyTimePrefix(at, this.opts.timeZone), callid),
        graceMs: this.opts.graceMs,
        didLookup: this.opts.didLookup
      })
      this.calls.set(callid, t)
    }
    return t
  }

  private count (dn: string, before: ParticipantStatus | undefined, after: ParticipantStatus | undefined): void {
    if (before === after) return
    const bump = (m: Map<string, number>, d: number): void => {
      const n = (m.get(dn) ?? 0) + d
      if (n <= 0) m.delete(dn)
      else m.set(dn, n)
    }
    if (before === undefined) bump(this.busy, 1)
    if (after === undefined) bump(this.busy, -1)
    if (before === 'Connected') bump(this.talking, -1)
    if (after === 'Connected') bump(this.talking, 1)
  }

  /** After a change: publish events, (re)arm the tracker's grace timer, drop a finished call. */
  private settle (tracker: CallTracker, events: CallEvent[]): void {
    this.listCache = null
    this.publish(tracker, events)
    if (tracker.finished) {
      this.forget(tracker.callid)
      return
    }
    const due = tracker.deadline()
    const armed = this.timers.get(tracker.callid)
    if (armed !== undefined && armed.at === due) return
    if (armed !== undefined) clearTimeout(armed.timer)
    this.timers.delete(tracker.callid)
    if (due === null || this.stopped) return
    const timer = setTimeout(() => {
      this.timers.delete(tracker.callid)
      if (this.calls.get(tracker.callid) !== tracker) return
      this.settle(tracker, tracker.expire(Math.max(this.now(), due)))
    }, Math.max(0, due - this.now()))
    timer.unref()
    this.timers.set(tracker.callid, { at: due, timer })
  }

  private forget (callid: number): void {
    const armed = this.timers.get(callid)
    if (armed !== undefined) clearTimeout(armed.timer)
    this.timers.delete(callid)
    this.calls.delete(callid)
    this.listCache = null
  }

  private publish (tracker: CallTracker, events: CallEvent[]): void {
    for (const e of events) {
      if (e.type === 'ended') this.endedLegs.add(e.payload as EndedPayload)
      if (e.type !== 'recording') this.eventCounts[e.type]++
      if (tracker.direction === 'internal' && !this.opts.internalCalls) continue
      try {
        this.opts.onEvent?.(e)
      } catch (err) {
        this.opts.log?.error({ err: err instanceof Error ? err.message : String(err), event: e.type }, 'call event sink failed')
      }
    }
  }
}
