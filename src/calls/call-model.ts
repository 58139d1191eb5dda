// The live call model: every call in progress, built from the Call Control participant stream,
// answered from memory for the legacy routes, and the source of the call webhooks. One CallTracker
// per callid does the derivation; this class routes changes to trackers, runs their grace timers,
// keeps per-DN busy/talking counts and caches the call list until the next change.
// A call whose last legs vanished from a snapshot (a gap: WebSocket down, PBX unreachable, gateway
// restarted) is ended from the PBX's own record of it (pbx-call-record.ts, call-reconciliation.ts),
// looked up for a bounded time. A call seen again after a gap with a leg answered meanwhile waits for
// the PBX's answer time, like a call first seen in progress (callTimes). With a state store, every
// call's tracker state is kept on disk (written with the events it emits, in their outbox
// transaction) and resumed after a restart.
import type { CallControlDnType, CallParticipant, ParticipantChange, ParticipantStatus } from '../pbx/callcontrol-types.js'
import type { CallModelView, LiveCall } from './live-call.js'
import type { CallEvent, EndedPayload } from './call-events.js'
import type { DidQuery } from './did-map.js'
import { CallTracker, legKey, type GapView } from './derivation/call-tracker.js'
import { chainId, legacyCallId, legacyTimePrefix } from './legacy-call-id.js'
import { EndedLegStore } from './ended-legs.js'
import { sleep, systemClock } from '../clock.js'
import type { CallStateStore, StoredCall } from './call-ports.js'
import type { CallRecordLookup, PbxCallRecord } from './pbx-call-record.js'
import type { UnseenCalls } from './unseen-calls.js'
import { callTimesOfRecord, type CallTimesLookup, type PbxCallTimes } from './pbx-call-times.js'

export interface CallModelOptions {
  /** PBX time zone for the legacy id's time prefix (`PBX_TIMEZONE`). */
  timeZone: string
  /** `CALL_END_GRACE_MS`. */
  graceMs: number
  /**
   * When the oldest change announced by 3CX but not fetched yet arrived (the Call Control client's
   * `oldestPendingUpsert`). A call's end waits while a change announced before its deadline is still
   * being fetched: on a slow PBX that change may be the transfer target that continues the call.
   */
  oldestPendingChange?: () => number | null
  /**
   * Since when the model's source cannot see the PBX (the Call Control client's `blindSince`): a
   * call's end due after that waits, without limit, for the snapshot that tells what happened.
   */
  blindSince?: () => number | null
  /** `WEBHOOK_INTERNAL_CALLS`: false suppresses the events of internal calls. */
  internalCalls: boolean
  /** Receives every derived event, in order. Must not throw (errors are logged and swallowed). */
  onEvent?: (e: CallEvent) => void
  didLookup?: (q: DidQuery) => string
  endedLegs?: EndedLegStore
  /** Keeps the calls in progress on disk; restore() resumes them at start. */
  stateStore?: CallStateStore
  /** The PBX's record of a call whose end the model did not see (without it: the model's own guess). */
  callRecords?: CallRecordLookup
  /** How long to wait for the PBX's record of such a call (3CX writes it after the call); default 20 s. */
  reconcileWaitMs?: number
  /** Notes every callid seen, so calls never seen (gaps in the PBX's counter) can be recovered. */
  unseen?: UnseenCalls
  /**
   * When calls first seen in a snapshot (already in progress) began and were answered, from the PBX;
   * also asked for calls the model knew that a snapshot shows answered meanwhile (during a gap).
   * Such a call's changes are held until it answers (at most callTimesWaitMs), so its chid and
   * durations are the PBX's, not the moment the gateway looked.
   */
  callTimes?: CallTimesLookup
  /** Default 3 s; then the call goes on with the times the gateway saw. */
  callTimesWaitMs?: number
  /** Changes that emit no event are written to the state store in batches, this often; default 250 ms. */
  stateFlushMs?: number
  now?: () => number
  log?: { error: (obj: unknown, msg?: string) => void, warn?: (obj: unknown, msg?: string) => void }
}

/**
 * A call waiting for the PBX's times (see CallModelOptions.callTimes): its changes in order. `known`:
 * a call the model already tracks (a snapshot shows it answered during a gap), last seen at `after`.
 * `movedOut`: legs seen in another call since, whose held changes are older than that and skipped.
 */
interface HeldCall {
  seenAt: number
  known: boolean
  after: number
  changes: Array<{ change: ParticipantChange, snapshot: boolean }>
  movedOut: Set<string>
}

/** The longest a call's end waits for changes that are still being fetched, and how often it looks. */
const MAX_HOLD_MS = 10_000
const HOLD_POLL_MS = 50

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
  /** Calls whose end is being looked up on the PBX. */
  private readonly reconciling = new Set<number>()
  /** Calls changed since the last state write (without events), and calls to delete from the store. */
  private readonly dirty = new Set<number>()
  private readonly gone = new Set<number>()
  private flushTimer: NodeJS.Timeout | null = null
  /** Calls waiting for the PBX's times, by callid. */
  private readonly held = new Map<number, HeldCall>()
  private readonly heldLegs = new Map<string, number>()
  private listCache: readonly LiveCall[] | null = null
  private readonly changeListeners = new Set<() => void>()
  private readonly now: () => number
  private stopped = false
  /** Events emitted since start, by type (for metrics). */
  readonly eventCounts = { ringing: 0, started: 0, ended: 0 }
  /** The DNs Call Control showed in its last snapshot: the ones the gateway monitors. */
  private monitoredDns = new Set<string>()
  /** Snapshots applied since start. */
  syncs = 0

  /** A snapshot has been applied since start. */
  get synced (): boolean {
    return this.syncs > 0
  }

  constructor (private readonly opts: CallModelOptions) {
    this.now = opts.now ?? Date.now
    this.endedLegs = opts.endedLegs ?? new EndedLegStore()
  }

  /** Calls resumed from the state store by restore(). */
  restored = 0

  /** The Call Control client's listener. */
  apply (change: ParticipantChange): void {
    if (this.stopped) return
    if (change.kind === 'upsert') this.upsert(change.participant, change.dnType, change.at)
    else if (change.kind === 'remove') this.remove(change.dn, change.id, change.at, change.uncertain === true)
    else {
      this.monitoredDns = new Set(change.dns.map((d) => d.dn))
      this.opts.unseen?.baseline(change.dns.flatMap((d) => d.participants.map((p) => p.callid)), change.at)
      this.resync(change.dns.flatMap((d) => d.participants.map((p) => ({ p, dnType: d.type }))), change.at)
      this.syncs++
    }
  }

  /** Whether any of these DNs is one the gateway monitors. */
  monitors (dns: readonly string[]): boolean {
    return dns.some((dn) => this.monitoredDns.has(dn))
  }

  /**
   * Announces a call the gateway never saw (call-recovery.ts) from the PBX's record of it: its
   * call-started and call-ended events, as for a call whose end fell into a gap.
   */
  recover (record: PbxCallRecord): void {
    if (this.stopped || this.calls.has(record.callid) || record.origin === undefined) return
    const chid = chainId(legacyTimePrefix(record.origin.startedAt, this.opts.timeZone), record.callid)
    const tracker = CallTracker.recovered(this.trackerOptions(record.callid, chid), record)
    if (tracker === null) return
    this.publish(tracker, tracker.endWithRecord(record, this.now()))
  }

  /** `listener` runs after every change of list() (the console's live view); returns the unsubscribe. */
  onChange (listener: () => void): () => void {
    this.changeListeners.add(listener)
    return () => { this.changeListeners.delete(listener) }
  }

  /** list() is out of date: drop its cache and tell the listeners. */
  private changed (): void {
    this.listCache = null
    for (const l of this.changeListeners) {
      // A viewer's bug must never stop the model (and its events) in the middle of a change.
      try {
        l()
      } catch (err) {
        this.opts.log?.error({ err }, 'a call list listener failed')
      }
    }
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

  /** For the recordings pipeline: the conversation of `user` in link `link` of call `callid` may still go on. */
  conversationMayContinue (callid: number, user: string, link: number): boolean {
    return this.calls.get(callid)?.conversationMayContinue(user, link) ?? false
  }

  /** The call-ended payload of a finished leg, by legacy id (for the recordings pipeline). */
  endedLeg (legacyId: string): EndedPayload | null {
    return this.endedLegs.get(legacyId)
  }

  /**
   * Stops the grace timers and writes pending state; later changes are ignored. Pending ends are
   * not emitted (with a state store, the next start resumes them).
   */
  stop (): void {
    this.flush()
    this.stopped = true
    for (const { timer } of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.flushTimer = null
  }

  private upsert (p: CallParticipant, dnType: CallControlDnType, at: number, gap?: GapView): void {
    this.opts.unseen?.note(p.callid, at)
    const key = legKey(p.dn, p.id)
    const held = this.held.get(p.callid)
    if (held !== undefined) {
      held.changes.push({ change: { kind: 'upsert', participant: p, dnType, at }, snapshot: false })
      this.heldLegs.set(key, p.callid)
      return
    }
    const knownCall = this.legCall.get(key) ?? this.heldLegs.get(key)
    if (knownCall !== undefined && knownCall !== p.callid) { // leg moved to another call
      this.held.get(knownCall)?.movedOut.add(key)
      this.remove(p.dn, p.id, at)
    }
    const tracker = this.trackerFor(p.callid, at)
    const before = tracker.legStatus(key)
    const events = tracker.upsert(p, dnType, at, gap)
    const after = tracker.legStatus(key)
    if (after !== undefined) this.legCall.set(key, p.callid)
    this.count(p.dn, before, after)
    this.settle(tracker, events)
  }

  /** `owner`: the call the leg is removed from (a held call's remove, played after the leg may have moved on). */
  private remove (dn: string, id: number, at: number, unobserved = false, owner?: number): void {
    const key = legKey(dn, id)
    const heldCall = owner === undefined ? this.heldLegs.get(key) ?? this.legCall.get(key) : undefined
    const held = heldCall === undefined ? undefined : this.held.get(heldCall)
    if (held !== undefined) {
      this.heldLegs.delete(key)
      held.changes.push({ change: { kind: 'remove', dn, id, at, uncertain: unobserved }, snapshot: false })
      return
    }
    const callid = owner ?? this.legCall.get(key)
    if (callid === undefined) return // never seen: nothing to undo
    if (this.legCall.get(key) === callid) this.legCall.delete(key)
    const tracker = this.calls.get(callid)
    if (tracker === undefined) return
    const before = tracker.legStatus(key)
    const events = tracker.remove(dn, id, at, unobserved)
    this.count(dn, before, undefined)
    this.settle(tracker, events)
  }

  /** Reconciles with a full snapshot: vanished legs are removed, new or changed legs upserted. */
  private resync (entries: Array<{ p: CallParticipant, dnType: CallControlDnType }>, at: number): void {
    const present = new Set(entries.map((e) => legKey(e.p.dn, e.p.id)))
    // Known calls answered during the gap wait for the PBX's answer time, their vanished legs too.
    const answered = this.answeredUnseen(entries)
    for (const callid of answered) this.held.set(callid, { seenAt: at, known: true, after: this.calls.get(callid)?.lastSeenAt ?? 0, changes: [], movedOut: new Set() })
    for (const key of [...this.legCall.keys(), ...this.heldLegs.keys()]) {
      if (present.has(key)) continue
      const hash = key.lastIndexOf('#')
      this.remove(key.slice(0, hash), Number(key.slice(hash + 1)), at, true)
    }
    const fresh: number[] = []
    // Oldest participants first, so a call's direction comes from its first legs.
    for (const { p, dnType } of [...entries].sort((a, b) => a.p.id - b.p.id)) {
      if (this.opts.callTimes !== undefined && !this.held.has(p.callid) && this.firstSeen(p.callid)) {
        this.held.set(p.callid, { seenAt: at, known: false, after: 0, changes: [], movedOut: new Set() })
        fresh.push(p.callid)
      }
      const held = this.held.get(p.callid)
      if (held === undefined) { this.upsert(p, dnType, at); continue }
      this.opts.unseen?.note(p.callid, at)
      held.changes.push({ change: { kind: 'upsert', participant: p, dnType, at }, snapshot: true })
      this.heldLegs.set(legKey(p.dn, p.id), p.callid)
    }
    if (fresh.length + answered.length > 0) void this.timesOf([...fresh, ...answered])
  }

  /** Calls the model tracks that the snapshot shows with a leg Connected that was not before. */
  private answeredUnseen (entries: Array<{ p: CallParticipant }>): number[] {
    if (this.opts.callTimes === undefined) return []
    const out = new Set<number>()
    for (const { p } of entries) {
      const t = this.calls.get(p.callid)
      if (t === undefined || t.finished || this.held.has(p.callid) || p.status !== 'Connected') continue
      if (t.legStatus(legKey(p.dn, p.id)) !== 'Connected') out.add(p.callid)
    }
    return [...out]
  }

  /** A call the model does not know, nor reserved: a snapshot shows it in progress. */
  private firstSeen (callid: number): boolean {
    const t = this.calls.get(callid)
    return (t === undefined || t.finished) && !this.reservations.has(callid)
  }

  /**
   * Asks the PBX when the held calls began and were answered, then plays their changes, each call as
   * soon as its times are known: ActiveCalls for calls in progress, the call log for calls that
   * ended meanwhile (ActiveCalls no longer lists them). Retries for callTimesWaitMs.
   */
  private async timesOf (callids: number[]): Promise<void> {
    const lookup = this.opts.callTimes as CallTimesLookup
    const until = this.now() + (this.opts.callTimesWaitMs ?? 3000)
    let waiting = callids
    const found = (times: Map<number, PbxCallTimes>): void => {
      for (const [id, t] of times) this.release(id, t)
      waiting = waiting.filter((id) => !times.has(id))
    }
    for (let pause = 100; waiting.length > 0 && !this.stopped; pause = Math.min(pause * 2, 1000)) {
      try {
        found(await lookup(waiting))
        if (waiting.length > 0) found(await this.endedTimes(waiting))
      } catch (err) {
        this.opts.log?.warn?.({ err: err instanceof Error ? err.message : String(err), calls: waiting.length }, 'asking the PBX when calls in progress began failed; retrying')
      }
      if (waiting.length === 0 || this.now() >= until) break
      await sleep(systemClock, Math.min(pause, Math.max(0, until - this.now())))
    }
    if (waiting.length > 0 && !this.stopped) this.opts.log?.warn?.({ calls: waiting.length }, 'the PBX gave no times for calls seen in progress after a gap; they are dated from when the gateway saw them, their events marked timing=approximate')
    for (const id of waiting) this.release(id, null)
  }

  /**
   * Times of held calls from their call-log records: calls that ended while the PBX was asked. Only
   * calls that lost a leg meanwhile are looked up (one query each); the others are still going on.
   */
  private async endedTimes (callids: readonly number[]): Promise<Map<number, PbxCallTimes>> {
    const out = new Map<number, PbxCallTimes>()
    const lookup = this.opts.callRecords
    if (lookup === undefined) return out
    await Promise.all(callids.map(async (callid) => {
      const held = this.held.get(callid)
      if (held === undefined || !held.changes.some((c) => c.change.kind === 'remove')) return
      const record = await lookup({ callid, seenFrom: held.seenAt, until: this.now() })
      const times = record === null ? null : callTimesOfRecord(record)
      if (times !== null) out.set(callid, times)
    }))
    return out
  }

  /**
   * Plays the held call's changes in order, the snapshot's with the PBX's answer time; a call first
   * seen gets its tracker first, dated from the PBX's start time.
   */
  private release (callid: number, times: PbxCallTimes | null): void {
    const held = this.held.get(callid)
    if (held === undefined) return
    this.held.delete(callid)
    for (const [key, id] of [...this.heldLegs]) if (id === callid) this.heldLegs.delete(key)
    if (this.stopped) return
    const known = this.calls.get(callid)
    // Nothing ends a held call meanwhile; should it be gone all the same, its old changes must not start it anew.
    if (held.known && (known === undefined || known.finished)) return
    if (!held.known) {
      const startedAt = times === null ? held.seenAt : Math.min(times.startedAt, held.seenAt)
      const t = new CallTracker({ ...this.trackerOptions(callid, chainId(legacyTimePrefix(startedAt, this.opts.timeZone), callid)), startedAt })
      this.calls.set(callid, t)
    }
    const gap: GapView = { answeredAt: times?.answeredAt ?? null, after: held.after }
    for (const { change, snapshot } of held.changes) {
      if (change.kind === 'upsert') {
        if (!held.movedOut.has(legKey(change.participant.dn, change.participant.id))) this.upsert(change.participant, change.dnType, change.at, snapshot ? gap : undefined)
      } else if (change.kind === 'remove') this.remove(change.dn, change.id, change.at, change.uncertain === true, callid)
    }
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
      t = new CallTracker(this.trackerOptions(callid, reserved?.chid ?? chainId(legacyTimePrefix(at, this.opts.timeZone), callid)))
      this.calls.set(callid, t)
    }
    return t
  }

  private trackerOptions (callid: number, chid: string): ConstructorParameters<typeof CallTracker>[0] {
    return { callid, chid, graceMs: this.opts.graceMs, didLookup: this.opts.didLookup }
  }

  /**
   * Resumes the calls a previous process left in the store (once, at start, before the first
   * change is applied); the first snapshot reconciles them.
   */
  async restore (): Promise<void> {
    const store = this.opts.stateStore
    if (store === undefined) return
    const resumed: CallTracker[] = []
    for (const s of await store.loadAll()) {
      const t = CallTracker.fromState(this.trackerOptions(s.callid, s.chid), s.state)
      if (t === null || t.finished) {
        this.gone.add(s.callid)
        continue
      }
      this.calls.set(s.callid, t)
      this.opts.unseen?.note(s.callid, this.now())
      this.opts.unseen?.persisted(s.callid)
      for (const key of t.legKeys()) {
        this.legCall.set(key, s.callid)
        this.count(key.slice(0, key.lastIndexOf('#')), undefined, t.legStatus(key))
      }
      resumed.push(t)
    }
    this.restored = resumed.length
    for (const t of resumed) this.arm(t) // grace periods and reconciliations that were pending
    this.flush()
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
    this.changed()
    if (events.length > 0 || tracker.finished) this.publish(tracker, events)
    else this.markDirty(tracker.callid)
    if (tracker.finished) {
      this.forget(tracker.callid)
      return
    }
    this.arm(tracker)
  }

  /** (Re)arms the tracker's timer: grace period, or the reconciliation of an end it did not see. */
  private arm (tracker: CallTracker): void {
    const due = tracker.deadline()
    const armed = this.timers.get(tracker.callid)
    if (armed !== undefined && armed.at === due) return
    if (armed !== undefined) clearTimeout(armed.timer)
    this.timers.delete(tracker.callid)
    if (due === null || this.stopped) return
    const fire = (): void => {
      this.timers.delete(tracker.callid)
      if (this.calls.get(tracker.callid) !== tracker) return
      const pending = this.opts.oldestPendingChange?.() ?? null
      const blind = this.opts.blindSince?.() ?? null
      // A call held for the PBX's times has changes not played yet: its end waits for them.
      if (this.held.has(tracker.callid) || (blind !== null && blind <= due) || (pending !== null && pending <= due && this.now() - due < MAX_HOLD_MS)) {
        const hold = setTimeout(fire, HOLD_POLL_MS)
        hold.unref()
        this.timers.set(tracker.callid, { at: due, timer: hold })
        return
      }
      const at = Math.max(this.now(), due)
      if (this.opts.callRecords !== undefined && tracker.awaitsReconciliation(at)) void this.reconcile(tracker, this.opts.callRecords)
      else this.settle(tracker, tracker.expire(at))
    }
    const timer = setTimeout(fire, Math.max(0, due - this.now()))
    timer.unref()
    this.timers.set(tracker.callid, { at: due, timer })
  }

  private forget (callid: number): void {
    this.dirty.delete(callid)
    const armed = this.timers.get(callid)
    if (armed !== undefined) clearTimeout(armed.timer)
    this.timers.delete(callid)
    this.calls.delete(callid)
    this.changed()
  }

  /**
   * Hands the events to the sink and, with a state store, writes the tracker's state (or deletes a
   * finished call) in the same transaction as the sink's outbox rows.
   */
  private publish (tracker: CallTracker, events: CallEvent[]): void {
    const store = this.opts.stateStore
    const send = (): void => {
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
      if (store === undefined) return
      this.dirty.delete(tracker.callid)
      try {
        const written = tracker.finished ? store.write([], [tracker.callid]) : store.write([this.stored(tracker)], [])
        // Not on disk yet (kept in memory): the call stays "unseen" on disk until it is.
        if (written) this.opts.unseen?.persisted(tracker.callid)
      } catch (err) {
        // Never let the state write roll back the events: a failed write only costs a resume.
        this.opts.log?.error({ err: err instanceof Error ? err.message : String(err), callid: tracker.callid }, 'writing the call state failed')
      }
    }
    if (store === undefined) {
      send()
      return
    }
    try {
      store.atomically(send)
    } catch (err) {
      this.opts.log?.error({ err: err instanceof Error ? err.message : String(err), callid: tracker.callid }, 'call state transaction failed')
    }
  }

  private stored (t: CallTracker): StoredCall {
    return { callid: t.callid, chid: t.chid, state: t.toState() }
  }

  private markDirty (callid: number): void {
    if (this.opts.stateStore === undefined || this.stopped) return
    this.dirty.add(callid)
    if (this.flushTimer !== null) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      this.flush()
    }, this.opts.stateFlushMs ?? 250)
    this.flushTimer.unref()
  }

  /** Writes the batched state changes (one transaction). */
  private flush (): void {
    const store = this.opts.stateStore
    if (store === undefined || this.stopped) return
    const save: StoredCall[] = []
    for (const id of this.dirty) {
      const t = this.calls.get(id)
      if (t !== undefined && !t.finished) save.push(this.stored(t))
    }
    const gone = [...this.gone]
    this.dirty.clear()
    this.gone.clear()
    try {
      store.atomically(() => {
        if (store.write(save, gone)) for (const c of save) this.opts.unseen?.persisted(c.callid)
      })
    } catch (err) {
      this.opts.log?.error({ err: err instanceof Error ? err.message : String(err), calls: save.length }, 'writing the call state failed')
    }
  }

  /**
   * Ends a call whose last legs vanished from a snapshot: asks the PBX for its record, retrying
   * (3CX writes it a moment after the call) for at most reconcileWaitMs, then ends it from the record
   * or, without one, from what the model knew. A call that comes back meanwhile goes on as before.
   */
  private async reconcile (tracker: CallTracker, lookup: CallRecordLookup): Promise<void> {
    const callid = tracker.callid
    if (this.reconciling.has(callid)) return
    this.reconciling.add(callid)
    try {
      const until = this.now() + (this.opts.reconcileWaitMs ?? 20_000)
      let pause = 200
      let record: PbxCallRecord | null = null
      for (;;) {
        try {
          record = await lookup({ callid, seenFrom: tracker.startedAt, until: this.now() })
        } catch (err) {
          this.opts.log?.warn?.({ err: err instanceof Error ? err.message : String(err), callid }, 'looking up the PBX record of a call failed; retrying')
        }
        if (this.stopped || this.calls.get(callid) !== tracker || this.held.has(callid) || !tracker.awaitsReconciliation(this.now())) return
        if (record !== null || this.now() >= until) break
        await sleep(systemClock, Math.min(pause, Math.max(0, until - this.now())))
        pause = Math.min(pause * 2, 2000)
        if (this.stopped || this.calls.get(callid) !== tracker || this.held.has(callid) || !tracker.awaitsReconciliation(this.now())) return
      }
      if (record === null) this.opts.log?.warn?.({ callid }, 'the PBX has no record of a call whose end the gateway did not see; ending it with what the gateway knew')
      this.settle(tracker, tracker.endWithRecord(record, this.now()))
    } finally {
      this.reconciling.delete(callid)
    }
  }
}
