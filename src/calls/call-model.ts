// The live call model: every call in progress, built from the Call Control participant stream,
// answered from memory for the legacy routes, and the source of the call webhooks. One CallTracker
// per callid does the derivation; this class routes the participant changes to the trackers, keeps
// the call list until the next change, and hands the trackers' events to the sink. Its parts:
// - call-deadlines.ts: each call's grace timer (and the wait for changes still being fetched);
// - held-calls.ts: calls first seen in progress, or answered during a gap, held until the PBX says
//   when they began and were answered;
// - end-reconciler.ts: a call whose last legs vanished in a gap (WebSocket down, PBX unreachable,
//   gateway restarted) is ended from the PBX's own record of it, looked up for a bounded time;
// - call-persistence.ts: with a state store, every call's tracker state is kept on disk (written
//   with the events it emits, in their outbox transaction) and resumed after a restart;
// - dn-activity.ts: per-DN busy/talking counts; call-reservations.ts: chain ids makecall handed out.
// Time comes from the injected clock (`clock`), so tests run on fake time.
import type { CallControlDnType, CallParticipant, ParticipantChange } from '../pbx/callcontrol-types.js'
import type { CallModelView, LiveCall } from './live-call.js'
import type { CallEvent, EndedPayload } from './call-events.js'
import { CallTracker, legKey, type GapView } from './derivation/call-tracker.js'
import { showsCallPastItsStart } from './derivation/leg-classification.js'
import { chainId, legacyCallId, legacyTimePrefix } from './legacy-call-id.js'
import { EndedLegStore } from './ended-legs.js'
import { systemClock, type Clock } from '../clock.js'
import type { PbxCallRecord } from './pbx-call-record.js'
import type { PbxCallTimes } from './pbx-call-times.js'
import { CallDeadlines, endMustWait } from './call-deadlines.js'
import { CallPersistence } from './call-persistence.js'
import { HeldCalls } from './held-calls.js'
import { EndReconciler } from './end-reconciler.js'
import { UnreadGone } from './unread-gone.js'
import { DnActivity } from './dn-activity.js'
import { CallReservations } from './call-reservations.js'
import type { CallModelOptions } from './call-model-options.js'

export type { CallModelOptions } from './call-model-options.js'

export class CallModel implements CallModelView {
  readonly endedLegs: EndedLegStore
  private readonly calls = new Map<number, CallTracker>()
  private readonly legCall = new Map<string, number>()
  private readonly activity = new DnActivity()
  private readonly reservations: CallReservations
  private readonly clock: Clock
  private readonly deadlines: CallDeadlines
  private readonly persistence: CallPersistence
  /** Calls waiting for the PBX's times (only with callTimes). */
  private readonly held: HeldCalls | null
  private readonly reconciler: EndReconciler | null
  private listCache: readonly LiveCall[] | null = null
  private readonly changeListeners = new Set<() => void>()
  private readonly unreadGone = new UnreadGone()
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
    const clock = this.clock = opts.clock ?? systemClock
    this.endedLegs = opts.endedLegs ?? new EndedLegStore()
    this.reservations = new CallReservations(clock, opts.timeZone)
    this.deadlines = new CallDeadlines(clock)
    this.persistence = new CallPersistence({
      store: opts.stateStore,
      unseen: opts.unseen,
      clock,
      flushMs: opts.stateFlushMs ?? 250,
      trackerOf: (callid) => this.calls.get(callid),
      log: opts.log
    })
    this.held = opts.callTimes === undefined
      ? null
      : new HeldCalls({
        clock,
        callTimes: opts.callTimes,
        callRecords: opts.callRecords,
        waitMs: opts.callTimesWaitMs,
        release: (callid, times) => { this.release(callid, times) },
        isStopped: () => this.stopped,
        log: opts.log
      })
    this.reconciler = opts.callRecords === undefined
      ? null
      : new EndReconciler({
        clock,
        lookup: opts.callRecords,
        waitMs: opts.reconcileWaitMs,
        stillOwed: (t) => !this.stopped && this.calls.get(t.callid) === t && this.held?.has(t.callid) !== true && t.awaitsReconciliation(clock.now()),
        settle: (t, events) => { this.settle(t, events) },
        log: opts.log
      })
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
      this.resync(change.dns.flatMap((d) => d.participants.map((p) => ({ p, dnType: d.type }))), change.at, change.firstEvents, change.removedAt)
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
    // A call held for the PBX's times is seen live: announced from its participants, not from a
    // record the call log may show while it still goes on (the recovery looked it up meanwhile).
    if (this.stopped || this.calls.has(record.callid) || this.held?.has(record.callid) === true || record.origin === undefined) return
    const chid = chainId(legacyTimePrefix(record.origin.startedAt, this.opts.timeZone), record.callid)
    const tracker = CallTracker.recovered(this.trackerOptions(record.callid, chid), record)
    if (tracker === null) return
    this.publish(tracker, tracker.endWithRecord(record, this.clock.now()))
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

  /**
   * Calls whose call-ended events are still owed: every call not finished, listed or not (its legs
   * gone, its end in the grace period, waiting for a fetch or a snapshot, or being reconciled with
   * the PBX's record), and every call held for the PBX's times. size() drops as the legs go; this
   * only once the ends are handed to the sink.
   */
  endsOwed (): number {
    let n = 0
    for (const t of this.calls.values()) if (!t.finished) n++
    for (const callid of this.held?.callids() ?? []) if (!this.calls.has(callid)) n++
    return n
  }

  isBusy (dn: string): boolean {
    return this.activity.isBusy(dn)
  }

  isTalking (dn: string): boolean {
    return this.activity.isTalking(dn)
  }

  reserve (callid: number, at: number): { chid: string, legacyId: string } {
    const t = this.calls.get(callid)
    // The id of the call's start (-0), as answered before its first participant: however far the call got.
    if (t !== undefined && !t.finished) return { chid: t.chid, legacyId: legacyCallId(t.chid, 0) }
    const chid = this.reservations.reserve(callid, at)
    return { chid, legacyId: legacyCallId(chid, 0) }
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
    this.persistence.stop()
    this.stopped = true
    this.deadlines.stop()
  }

  /**
   * The PBX's call counter began again (origin-watch.ts): every call known is an earlier PBX run's
   * and would be matched with a new call reusing its id. Forgets them all, without events (as at
   * start on another PBX); returns how many.
   */
  discardAll (): number {
    const n = this.calls.size
    for (const t of [...this.calls.values()]) {
      for (const key of t.legKeys()) this.activity.count(key.slice(0, key.lastIndexOf('#')), t.legStatus(key), undefined)
      this.forget(t.callid)
    }
    this.legCall.clear()
    return n
  }

  /**
   * Resumes the calls a previous process left in the store (once, at start, before the first
   * change is applied); the first snapshot reconciles them.
   */
  async restore (): Promise<void> {
    const resumed = await this.persistence.load((s) => CallTracker.fromState(this.trackerOptions(s.callid, s.chid), s.state))
    for (const t of resumed) {
      this.calls.set(t.callid, t)
      this.opts.unseen?.note(t.callid, this.clock.now())
      this.opts.unseen?.persisted(t.callid)
      for (const key of t.legKeys()) {
        this.legCall.set(key, t.callid)
        this.activity.count(key.slice(0, key.lastIndexOf('#')), undefined, t.legStatus(key))
      }
    }
    this.restored = resumed.length
    for (const t of resumed) this.arm(t) // grace periods and reconciliations that were pending
    this.persistence.flush()
  }

  private upsert (p: CallParticipant, dnType: CallControlDnType, at: number, gap?: GapView): void {
    this.opts.unseen?.note(p.callid, at)
    const key = legKey(p.dn, p.id)
    const held = this.held?.get(p.callid)
    if (held !== undefined) {
      this.held?.queueUpsert(held, key, p.callid, p, dnType, at, false)
      return
    }
    const knownCall = this.legCall.get(key) ?? this.held?.callOfLeg(key)
    if (knownCall !== undefined && knownCall !== p.callid) { // leg moved to another call
      this.held?.get(knownCall)?.movedOut.add(key)
      this.remove(p.dn, p.id, at)
    }
    const tracker = this.trackerFor(p.callid, at)
    const before = tracker.legStatus(key)
    const events = tracker.upsert(p, dnType, at, gap)
    const after = tracker.legStatus(key)
    if (after !== undefined) this.legCall.set(key, p.callid)
    this.activity.count(p.dn, before, after)
    this.settle(tracker, events)
  }

  /** `owner`: the call the leg is removed from (a held call's remove, played after the leg may have moved on). */
  private remove (dn: string, id: number, at: number, unobserved = false, owner?: number): void {
    const key = legKey(dn, id)
    const heldCall = owner === undefined ? this.held?.callOfLeg(key) ?? this.legCall.get(key) : undefined
    const held = heldCall === undefined ? undefined : this.held?.get(heldCall)
    if (held !== undefined) {
      this.held?.queueRemove(held, key, dn, id, at, unobserved)
      return
    }
    const callid = owner ?? this.legCall.get(key)
    if (callid === undefined) { // never seen: nothing to undo, but a call of its time may have been answered unseen
      if (unobserved) this.unreadGone.note(at)
      return
    }
    if (this.legCall.get(key) === callid) this.legCall.delete(key)
    const tracker = this.calls.get(callid)
    if (tracker === undefined) return
    const before = tracker.legStatus(key)
    const events = tracker.remove(dn, id, at, unobserved)
    this.activity.count(dn, before, undefined)
    this.settle(tracker, events)
  }

  /**
   * Reconciles with a full snapshot: vanished legs are removed, new or changed legs upserted. A call
   * first seen in it is dated from the first event of its legs, when one came before (firstEvents); a
   * leg whose remove event came while the snapshot was read ends then, as seen (removedAt).
   */
  private resync (entries: Array<{ p: CallParticipant, dnType: CallControlDnType }>, at: number, firstEvents: Readonly<Record<string, number>> = {}, removedAt: Readonly<Record<string, number>> = {}): void {
    const present = new Set(entries.map((e) => legKey(e.p.dn, e.p.id)))
    const held = this.held
    // Known calls answered during the gap wait for the PBX's answer time, their vanished legs too.
    const answered = held === null ? [] : this.answeredUnseen(entries, held)
    for (const callid of answered) held?.hold(callid, at, true, this.calls.get(callid)?.lastSeenAt ?? 0)
    for (const key of [...this.legCall.keys(), ...(held?.legKeys() ?? [])]) {
      if (present.has(key)) continue
      const hash = key.lastIndexOf('#')
      const gone = removedAt[`${key.slice(0, hash)}/${key.slice(hash + 1)}`]
      this.remove(key.slice(0, hash), Number(key.slice(hash + 1)), gone ?? at, gone === undefined)
    }
    const fresh: number[] = []
    // Oldest participants first, so a call's direction comes from its first legs.
    for (const { p, dnType } of [...entries].sort((a, b) => a.p.id - b.p.id)) {
      if (held !== null && !held.has(p.callid) && this.firstSeen(p.callid)) {
        held.hold(p.callid, firstEventOf(entries, p.callid, firstEvents, at), false, 0)
        fresh.push(p.callid)
      }
      const call = held?.get(p.callid)
      if (held === null || call === undefined) { this.upsert(p, dnType, at); continue }
      this.opts.unseen?.note(p.callid, at)
      held.queueUpsert(call, legKey(p.dn, p.id), p.callid, p, dnType, at, true)
    }
    if (held !== null && fresh.length + answered.length > 0) void held.askTimes([...fresh, ...answered])
  }

  /** Calls the model tracks that the snapshot shows with a leg Connected that was not before. */
  private answeredUnseen (entries: Array<{ p: CallParticipant }>, held: HeldCalls): number[] {
    const out = new Set<number>()
    for (const { p } of entries) {
      const t = this.calls.get(p.callid)
      if (t === undefined || t.finished || held.has(p.callid) || p.status !== 'Connected') continue
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
   * Plays the held call's changes in order, the snapshot's with the PBX's answer time; a call first
   * seen gets its tracker first, dated from the PBX's start time.
   */
  private release (callid: number, times: PbxCallTimes | null): void {
    const held = this.held?.take(callid)
    if (held === undefined || this.stopped) return
    const known = this.calls.get(callid)
    // Nothing ends a held call meanwhile; should it be gone all the same, its old changes must not start it anew.
    if (held.known && (known === undefined || known.finished)) return
    if (!held.known) {
      const startedAt = times === null ? held.seenAt : Math.min(times.startedAt, held.seenAt)
      const t = new CallTracker({ ...this.trackerOptions(callid, chainId(legacyTimePrefix(startedAt, this.opts.timeZone), callid)), startedAt })
      // E.g. its extension's started and ended events were lost after a database restart slowed the feed into a catch-up snapshot.
      if (held.changes.some(({ change, snapshot }) => snapshot && change.kind === 'upsert' && showsCallPastItsStart(change.participant))) t.seenPastItsStart()
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
      t = new CallTracker(this.trackerOptions(callid, this.reservations.take(callid) ?? chainId(legacyTimePrefix(at, this.opts.timeZone), callid)))
      this.calls.set(callid, t)
    }
    return t
  }

  private trackerOptions (callid: number, chid: string): ConstructorParameters<typeof CallTracker>[0] {
    return { callid, chid, graceMs: this.opts.graceMs, didLookup: this.opts.didLookup }
  }

  /** After a change: publish events, (re)arm the tracker's grace timer, drop a finished call. */
  private settle (tracker: CallTracker, events: CallEvent[]): void {
    this.changed()
    if (events.length > 0 || tracker.finished) this.publish(tracker, events)
    else this.persistence.markDirty(tracker.callid)
    if (tracker.finished) {
      this.forget(tracker.callid)
      return
    }
    this.arm(tracker)
  }

  /** (Re)arms the tracker's timer: grace period, or the reconciliation of an end it did not see. */
  private arm (tracker: CallTracker): void {
    if (this.stopped) return
    const waits = (due: number): boolean => this.calls.get(tracker.callid) === tracker && endMustWait({
      due,
      now: this.clock.now(),
      held: this.held?.has(tracker.callid) === true,
      pending: this.opts.oldestPendingChange?.() ?? null,
      blind: this.opts.blindSince?.() ?? null
    })
    this.deadlines.arm(tracker.callid, tracker.deadline(), waits, (due) => {
      if (this.calls.get(tracker.callid) !== tracker) return
      const at = Math.max(this.clock.now(), due)
      if (this.reconciler !== null) {
        // Nobody answered, or the caller was left, as far as seen; but legs went unread meanwhile: the record tells.
        const unseenFrom = tracker.unseenAnswerFrom(at)
        if (unseenFrom !== null && this.unreadGone.since(unseenFrom)) tracker.answerMayBeUnseen()
        if (tracker.awaitsReconciliation(at)) { void this.reconciler.reconcile(tracker); return }
      }
      this.settle(tracker, tracker.expire(at))
    })
  }

  private forget (callid: number): void {
    this.persistence.forget(callid)
    this.deadlines.clear(callid)
    this.calls.delete(callid)
    this.changed()
  }

  /** Hands the events to the sink, with the tracker's state written in the same transaction (call-persistence.ts). */
  private publish (tracker: CallTracker, events: CallEvent[]): void {
    this.persistence.publish(tracker, () => {
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
    })
  }
}

/** When the first event of any of the call's legs in the snapshot arrived, else `at` (no later than it). */
function firstEventOf (entries: ReadonlyArray<{ p: CallParticipant }>, callid: number, firstEvents: Readonly<Record<string, number>>, at: number): number {
  let first = at
  for (const { p } of entries) if (p.callid === callid) first = Math.min(first, firstEvents[`${p.dn}/${p.id}`] ?? at)
  return first
}
