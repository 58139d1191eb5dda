// Turns the participant stream of ONE call (callid) into webhook events (3cx-v20.md §7, webhooks.md §3).
// No timers and no I/O: every method takes the observation time and returns the events it derives,
// and `deadline()` says when the owner must call `expire()` (the grace period in which 3CX briefly
// has no participant during a transfer or a queue re-ring, so a call does not end early).
// All it knows of the call is one plain record (tracker-state.ts), persisted as is.
import type { CallControlDnType, CallParticipant, ParticipantStatus } from '../../pbx/callcontrol-types.js'
import type { LiveCall } from '../live-call.js'
import type { CallEvent } from '../call-events.js'
import { legacyCallId } from '../legacy-call-id.js'
import type { DidQuery } from '../did-map.js'
import type { PbxCallRecord } from '../pbx-call-record.js'
import { endConversation, onConnected, startBlindTransfer } from './conversations.js'
import { answerLeg, classifyLeg, isConsultParty, noteDestination, sameParty, STATUS_RANK } from './leg-classification.js'
import { missedEvent, ringingEvent } from './legacy-payloads.js'
import { liveCallOf } from './live-view.js'
import { reconciledEnd, recoveredState } from './reconciled-end.js'
import {
  consultationGoesOn, currentConversation, emptyTrackerState, keyOf, legKey, legOf, restoreTrackerState, transferredConversation,
  type CallTrackerState, type ConversationState, type Derivation, type Direction, type LegState
} from './tracker-state.js'

export { legKey, type Direction }

export interface CallTrackerOptions {
  callid: number
  chid: string
  graceMs: number
  /** DID rule lookup for inbound calls. */
  didLookup?: (q: DidQuery) => string
  /** When the call reached the PBX, for a call first seen in progress (pbx-call-times.ts). */
  startedAt?: number
}

/**
 * A participant as a snapshot shows it after a gap (a restart, a reconnect, a catch-up): what the
 * PBX says of the call's answer (pbx-call-times.ts) and since when the gateway had not seen the call.
 */
export interface GapView {
  /** When the PBX says the call was answered (ActiveCalls); null when it does not say. */
  answeredAt: number | null
  /** The gateway's last sight of the call before the gap (0: never saw it). */
  after: number
}

export class CallTracker {
  readonly callid: number
  readonly chid: string
  /** The call is over; the owner forgets it. */
  finished = false

  private readonly d: Derivation
  private cachedView: LiveCall | null = null

  /** `state`: the call's state so far (a resumed or recovered call); a new call starts empty. */
  constructor (private readonly opts: CallTrackerOptions, state?: CallTrackerState) {
    this.callid = opts.callid
    this.chid = opts.chid
    const s = state ?? emptyTrackerState(opts.startedAt)
    this.d = opts.didLookup === undefined ? { chid: opts.chid, s } : { chid: opts.chid, s, didLookup: opts.didLookup }
  }

  /** A tracker resumed from toState()'s output; null when the state is of another version. */
  static fromState (opts: CallTrackerOptions, stored: CallTrackerState): CallTracker | null {
    const s = restoreTrackerState(stored)
    return s === null ? null : new CallTracker(opts, s)
  }

  /**
   * A tracker for a call the gateway never saw (unseen-calls.ts), described by the PBX's record of
   * it; its endWithRecord() gives the events the call owes. Null when the record lacks its origin.
   */
  static recovered (opts: CallTrackerOptions, record: PbxCallRecord): CallTracker | null {
    const s = recoveredState(record)
    return s === null ? null : new CallTracker(opts, s)
  }

  /**
   * The call was first seen in a snapshot already answered or transferred: an answer before it may
   * have been missed, so its end is reconciled with the PBX's record (awaitsReconciliation), which
   * announces the conversations the gateway never saw.
   */
  seenPastItsStart (): void {
    this.d.s.uncertainAnswer = true
  }

  /** The tracker's whole state as plain JSON (persisted so a restarted gateway resumes the call). */
  toState (): CallTrackerState {
    return structuredClone(this.d.s)
  }

  get direction (): Direction | null {
    return this.d.s.direction
  }

  get startedAt (): number {
    return this.d.s.startedAt
  }

  get answeredAt (): number | null {
    return this.d.s.answeredAt
  }

  get legacyId (): string {
    return legacyCallId(this.chid, this.d.s.link)
  }

  /** The gateway's last sight of the call (after a restart: at least its latest event). */
  get lastSeenAt (): number {
    return Math.max(this.d.s.lastSeenAt ?? 0, this.d.s.lastEventAt)
  }

  get legCount (): number {
    return this.d.s.legs.length
  }

  legStatus (key: string): ParticipantStatus | undefined {
    return legOf(this.d.s, key)?.p.status
  }

  /** Participant keys currently known (for snapshot reconciliation). */
  legKeys (): string[] {
    return this.d.s.legs.map(keyOf)
  }

  /**
   * The participant was fetched after an upsert (or seen in a snapshot). `gap`: it comes from a
   * snapshot after a gap, so a leg Connected in it was answered at some moment the gateway did not see.
   */
  upsert (p: CallParticipant, dnType: CallControlDnType, at: number, gap?: GapView): CallEvent[] {
    const s = this.d.s
    const key = legKey(p.dn, p.id)
    if (s.removed.includes(key)) return [] // a stale fetch that finished after the remove
    const out: CallEvent[] = []
    s.lastSeenAt = Math.max(s.lastSeenAt ?? 0, at)
    s.emptySince = null
    s.uncertainEnd = false
    let leg = legOf(s, key)
    if (leg === undefined) {
      if (s.legs.length === 0 && s.startedAt === 0) {
        s.startedAt = at
        s.linkStartedAt = at
      }
      leg = this.addLeg(p, dnType, at, out)
    } else {
      if (STATUS_RANK[p.status] < STATUS_RANK[leg.p.status]) return [] // out of order: never go back from Connected
      if (p.status === leg.p.status && sameParty(leg.p, p)) return [] // duplicate upsert
      leg.p = p
      if (p.status === 'Ringing' && p.referred_by_dn !== '' && leg.referredBy === '') leg.referredBy = p.referred_by_dn
    }
    this.cachedView = null
    if (leg.role === 'trunk') this.noteTrunkParty(p)
    if (leg.referredBy !== '' && p.referred_by_type === 'Wextension') this.noteTransferor(leg.referredBy)
    if (p.status === 'Connected') {
      const answered = leg.connectedAt === null && gap !== undefined ? this.answerInGap(gap, at) : { at, unsure: false }
      if (leg.connectedAt === null) leg.connectedAt = answered.at
      onConnected(this.d, leg, at, out, answered.at, answered.unsure)
    }
    return out
  }

  /**
   * When a leg first seen Connected after a gap was answered. The PBX's answer time (ActiveCalls
   * `LastChangeStatus`) is the call's first answer: it dates the leg only when the call had none
   * before. Otherwise (a transfer, a second conversation) the PBX does not say, and the answer is
   * stamped when the gateway saw it, marked unsure.
   */
  private answerInGap (gap: GapView, at: number): { at: number, unsure: boolean } {
    if (this.d.s.answeredAt !== null || gap.answeredAt === null) return { at, unsure: true }
    // Clock offsets and fetch latency may put it a little before the last sight of the call ringing.
    return { at: Math.min(at, Math.max(gap.answeredAt, gap.after, this.d.s.startedAt)), unsure: false }
  }

  /**
   * The leg is gone (remove event, a 404 fetch, or missing from a snapshot). `unobserved`: it was
   * missing from a snapshot, so what happened to it during the gap is not known.
   */
  remove (dn: string, id: number, at: number, unobserved = false): CallEvent[] {
    const s = this.d.s
    const key = legKey(dn, id)
    const index = s.legs.findIndex((l) => keyOf(l) === key)
    if (index < 0) return [] // remove without a prior upsert: nothing we knew about
    const [leg] = s.legs.splice(index, 1) as [LegState]
    s.removed.push(key)
    this.cachedView = null
    s.lastSeenAt = Math.max(s.lastSeenAt ?? 0, at)
    const conv = currentConversation(s)
    if (conv !== null && conv.legKey === key && conv.endedAt === null) {
      conv.endedAt = at
      // Gone from a snapshot: it ended at some moment of the gap, not when the gateway looked.
      if (unobserved) conv.endUnsure = true
    }
    if (unobserved && leg.p.dn !== s.customerDn) noteVanished(s, leg.p.dn, leg.link)
    // Its answer may have been missed (an outbound call's too: 106's Connected unread when the remote end hung up),
    // or a consultation target's turn to the caller once the transferor had left (its last read showed the consultation).
    const unseenTurn = leg.p.status !== 'Connected' || (leg.consultTarget && !leg.answered)
    if (unobserved && answerLeg(s, leg) && unseenTurn && (conv === null || conv.endedAt !== null)) s.uncertainAnswer = true
    if (s.legs.length === 0) {
      s.emptySince = at
      s.uncertainEnd = unobserved
    }
    return []
  }

  /**
   * The call's last legs vanished from a snapshot and the grace period is over: its end must be
   * reconciled with the PBX's record (endWithRecord) instead of expire().
   */
  awaitsReconciliation (now: number): boolean {
    const s = this.d.s
    return !this.finished && this.endUnresolved() && s.emptySince !== null && now >= s.emptySince + this.opts.graceMs
  }

  /** Its grace period is over and nobody answered it, as far as the gateway saw (expire() would send Missed). */
  endsUnanswered (now: number): boolean {
    const s = this.d.s
    return !this.finished && s.talks.length === 0 && s.emptySince !== null && now >= s.emptySince + this.opts.graceMs
  }

  /**
   * From when participants that went away unread (CallModel.unreadGone) may be an answer the gateway
   * missed, at `now`: the call's start when it would end unanswered; the end of its last
   * conversation when the call emptied after it; the end of its conversation when that would end as
   * final with the caller still in the call (a blind transfer's target may have rung unread: the call
   * may come back, or have been taken). Null when none is due.
   */
  unseenAnswerFrom (now: number): number | null {
    if (this.endsUnanswered(now)) return this.d.s.startedAt
    const s = this.d.s
    const conv = currentConversation(s)
    // The call emptied after a conversation: a transfer's target may have rung, answered and talked
    // between two reads (an attended transfer inside a catch-up: data-dir under load, 2026-12-07); its
    // legs went when the conversation ended or later. (From the answer on, any read that found a leg of
    // any call gone, 10 minutes back, would send most calls' ends to the call log.)
    if (conv !== null && s.emptySince !== null) return conv.endedAt ?? s.emptySince
    if (conv?.endedAt == null || s.legs.length === 0 || !this.endsAtGrace(conv)) return null
    return now >= conv.endedAt + this.opts.graceMs ? conv.endedAt : null
  }

  /** An answer may have gone by unread (CallModel.unreadGone): the call's end is the PBX's record's to tell. */
  answerMayBeUnseen (): void {
    this.d.s.uncertainAnswer = true
  }

  /** What the gateway saw does not tell how the call ended: its end is the PBX's record's to tell once it has emptied. */
  private endUnresolved (): boolean {
    const s = this.d.s
    // A blind transfer still unresolved at the end: the target may have been missed and the call taken back unseen.
    return s.uncertainEnd || s.uncertainAnswer === true || s.transferFrom !== null || this.answeredUnseenGoesOn() || s.answerUnseenBy !== undefined
  }

  /**
   * The caller's leg connected to an extension of which no leg was read (they came and went before
   * their reads): an answer the gateway may have missed, which the PBX's record tells at the end.
   */
  private noteTrunkParty (p: CallParticipant): void {
    const s = this.d.s
    if (p.status !== 'Connected' || p.party_dn_type !== 'Wextension' || s.answerUnseenBy !== undefined) return
    if (!this.legRead(p.party_dn)) s.answerUnseenBy = p.party_dn
  }

  /**
   * A leg blind-transferred by an extension of which no leg was read: that extension answered and talked
   * unseen (its ringing, answer and transfer all fell into a gap or a catch-up snapshot), so the call's
   * end is the PBX's record's to tell, with that conversation (tenant-faults on a loaded machine, 2026-12-07).
   */
  private noteTransferor (dn: string): void {
    const s = this.d.s
    if (!this.legRead(dn) && !s.talks.some((c) => c.user === dn)) s.uncertainAnswer = true
  }

  /** Whether a leg of `dn` was read in this call (one still there, or one that went). */
  private legRead (dn: string): boolean {
    const s = this.d.s
    return s.legs.some((l) => l.p.dn === dn) || s.removed.some((k) => k.slice(0, k.lastIndexOf('#')) === dn)
  }

  /**
   * Ends a call whose end the gateway did not see, from the PBX's own record of it (call log rows):
   * the call-started events it missed, then the call-ended events with the PBX's users and talk
   * times. Without a usable record, ends it with what the model knew (as expire() would).
   */
  endWithRecord (record: PbxCallRecord | null, now: number): CallEvent[] {
    if (this.finished) return []
    const out = reconciledEnd(this.d, record, now)
    if (out === null) return this.expire(Number.MAX_SAFE_INTEGER)
    this.finished = true
    this.cachedView = null
    return out
  }

  /** When the owner must call expire(), or null when nothing is pending. */
  deadline (): number | null {
    if (this.finished) return null
    const s = this.d.s
    const conv = currentConversation(s)
    const times: number[] = []
    // With an answer that may have been missed, whether the conversation was transferred is the PBX's record's to say.
    if (conv?.endedAt != null && this.endsAtGrace(conv)) times.push(conv.endedAt + this.opts.graceMs)
    if (s.emptySince !== null) times.push(s.emptySince + this.opts.graceMs)
    return times.length === 0 ? null : Math.min(...times)
  }

  /** Ends what the grace period has run out for. */
  expire (now: number): CallEvent[] {
    const s = this.d.s
    const out: CallEvent[] = []
    const conv = currentConversation(s)
    if (conv?.endedAt != null && this.endsAtGrace(conv) && now >= conv.endedAt + this.opts.graceMs) {
      out.push(endConversation(this.d, conv, false))
    }
    if (s.emptySince !== null && now >= s.emptySince + this.opts.graceMs) {
      const open = currentConversation(s)
      if (open !== null) out.push(endConversation(this.d, open, false))
      if (!s.linkAnswered) out.push(missedEvent(this.d, s.emptySince))
      this.finished = true
      this.cachedView = null
    }
    return out
  }

  /**
   * Whether the current conversation ends when its grace period is over. Not while an answer may
   * have been missed or a consultation target may still take the call; nor when it was answered in
   * a gap (the PBX did not date it) and the call has emptied: then the call log gives its talk time.
   * Nor once the call has emptied with an end the gateway did not see (its last legs vanished in a
   * gap): whoever took the call from this conversation meanwhile is the PBX's record's to tell, and
   * the call's end (endWithRecord) ends this conversation too, transferred or not. Ended alone, it
   * would be the call's final end with the record's later conversations sent after it.
   */
  private endsAtGrace (conv: ConversationState): boolean {
    const s = this.d.s
    if (s.uncertainAnswer === true || consultationGoesOn(s, conv)) return false
    return !(s.emptySince !== null && (conv.answerUnsure === true || this.endUnresolved()))
  }

  /** A conversation answered in a gap (a transfer target after a reconnect) is still open: its end is the PBX's to date. */
  private answeredUnseenGoesOn (): boolean {
    const conv = currentConversation(this.d.s)
    return conv !== null && !conv.closed && conv.answerUnsure === true
  }

  /**
   * The conversation of `user` in `link` may still go on: it is open, or a blind transfer from it
   * is unresolved (the call may come back to `user` under the same link). Its recording waits.
   */
  conversationMayContinue (user: string, link: number): boolean {
    if (this.finished) return false
    const c = currentConversation(this.d.s)
    if (c !== null && !c.closed && c.user === user && c.link === link) return true
    const from = transferredConversation(this.d.s)
    return from !== null && from.user === user && from.link === link
  }

  view (): LiveCall {
    this.cachedView ??= liveCallOf(this.d, this.callid)
    return this.cachedView
  }

  private addLeg (p: CallParticipant, dnType: CallControlDnType, at: number, out: CallEvent[]): LegState {
    const s = this.d.s
    const role = classifyLeg(s, p, dnType)
    const leg: LegState = {
      p,
      dnType,
      role,
      firstSeenAt: at,
      connectedAt: null,
      link: s.link,
      // Meaningful while ringing; a leg first seen already Connected (its ringing fetched too late)
      // still tells who blind-transferred it.
      referredBy: p.status === 'Dialing' ? '' : p.referred_by_dn,
      consultTarget: false,
      answered: false
    }
    s.legs.push(leg)
    if (s.answerUnseenBy === p.dn) delete s.answerUnseenBy // read after all (reads of different legs race)
    if (s.customerName === '' && role !== 'trunk' && p.party_dn === s.customerDn) s.customerName = p.party_caller_name
    if (role === 'routing') {
      noteDestination(s, p.dn)
      if (p.on_behalf_of_dn === '') s.missedAt = { dn: p.dn, dnType }
      this.ringing(leg, at, out)
    } else if (role === 'callee' && isConsultParty(s, p)) {
      // The consultation of an attended transfer, ringing or already answered (its ringing unseen).
      noteDestination(s, p.dn)
      leg.consultTarget = true
      leg.link = ++s.maxLink
      if (p.status === 'Ringing') this.ringing(leg, at, out)
    } else if (role === 'callee' && p.status !== 'Connected') {
      noteDestination(s, p.dn)
      if (leg.referredBy !== '') {
        startBlindTransfer(this.d, leg, at, out)
      } else if (p.on_behalf_of_dn === '') {
        s.missedAt = { dn: p.dn, dnType }
      }
      if (p.status === 'Ringing') this.ringing(leg, at, out)
    } else if (role === 'origin' && s.direction === 'outbound') {
      s.missedAt = { dn: p.dn, dnType }
    } else if (role === 'consult') {
      // Its target may have been fetched first (fetches race): it rang for this consultation.
      for (const l of s.legs) {
        if (l.role === 'callee' && !l.answered && !l.consultTarget && l.p.party_dn === p.dn) {
          l.consultTarget = true
          l.link = ++s.maxLink
        }
      }
    }
    return leg
  }

  /** One ringing event per DN and link. */
  private ringing (leg: LegState, at: number, out: CallEvent[]): void {
    const mark = `${leg.link}:${leg.p.dn}`
    if (this.d.s.ringingSent.includes(mark)) return
    this.d.s.ringingSent.push(mark)
    out.push(ringingEvent(this.d, leg, at))
  }
}

/** A leg gone from a snapshot: its DN and the latest link it rang in (the PBX's record may show it answered). */
function noteVanished (s: CallTrackerState, dn: string, link: number): void {
  const entry = s.vanished.find(([d]) => d === dn)
  if (entry === undefined) s.vanished.push([dn, link])
  else entry[1] = Math.max(link, entry[1])
}
