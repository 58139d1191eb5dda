// Turns the participant stream of ONE call (callid) into webhook events (3cx-v20.md §7, webhooks.md §3).
// No timers and no I/O: every method takes the observation time and returns the events it derives,
// and `deadline()` says when the owner must call `expire()` (the grace period in which 3CX briefly
// has no participant during a transfer or a queue re-ring, so a call does not end early).
import type { CallControlDnType, CallParticipant, ParticipantStatus } from '../pbx/callcontrol-types.js'
import type { CallDirection, CallState, LiveCall, LiveLeg } from './live-call.js'
import {
  callTitle, eventOf, usertypeOf,
  type CallEvent, type EndedPayload, type StartedPayload, type TitleFacts, type Timing, type TransferType
} from './call-events.js'
import { legacyCallId } from './legacy-call-id.js'
import type { DidQuery } from './did-map.js'
import type { PbxCallRecord } from './pbx-call-record.js'
import { planReconciledEnd, type KnownCall, type ReconciledStep } from './call-reconciliation.js'
import { CALL_TRACKER_STATE_VERSION, type CallTrackerState, type ConversationState, type LegState } from './call-tracker-state.js'

export type Direction = 'inbound' | 'outbound' | 'internal'

/** A leg as the tracker keeps it (its persisted form plus its map key). */
interface Leg extends LegState {
  key: string
}

type LegRole = LegState['role']

/** A conversation announced with a call-started event (persisted as is). */
type Conversation = ConversationState

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

const STATUS_RANK: Record<ParticipantStatus, number> = { Dialing: 0, Ringing: 0, Connected: 1 }

export function legKey (dn: string, id: number): string {
  return `${dn}#${id}`
}

function legacyDnType (t: CallControlDnType): string {
  return t.startsWith('W') ? t.slice(1).toLowerCase() : t.toLowerCase()
}

export class CallTracker {
  readonly callid: number
  readonly chid: string
  direction: Direction | null = null
  startedAt = 0
  answeredAt: number | null = null
  /** The call is over; the owner forgets it. */
  finished = false

  private readonly legs = new Map<string, Leg>()
  private readonly removed = new Set<string>()
  private link = 0
  private maxLink = 0
  private linkAnswered = false
  private linkStartedAt = 0
  private readonly ringingSent = new Set<string>()
  private conversation: Conversation | null = null
  /** A blind transfer whose target has not answered yet: the transferor may get the call back. */
  private transferFrom: { conv: Conversation, targetKey: string } | null = null
  private customerDn = ''
  private customerNumber = ''
  private customerName = ''
  private firstDestination = ''
  private partyDid = ''
  private did: string | null = null
  private missedAt: { dn: string, dnType: CallControlDnType } | null = null
  private emptySince: number | null = null
  private cachedView: LiveCall | null = null
  /** Every conversation announced with a call-started event, in order. */
  private talks: Conversation[] = []
  /** Legs that vanished from a snapshot (not through an observed remove): DN → link they rang in. */
  private readonly vanished = new Map<string, number>()
  /** The call's last legs vanished from a snapshot: how it ended is not known (see endWithRecord). */
  private uncertainEnd = false
  /**
   * A ringing leg went while nobody talked, and what happened to it just before is not known (a gap,
   * or a change whose fetch found it gone): it may have been answered, so the call's end is looked up.
   */
  private uncertainAnswer = false
  /** Timestamp of the latest event emitted (reconciled events never go back before it). */
  private lastEventAt = 0
  /** When the latest change of the call was seen (the start of a gap, for the one after it). */
  private lastSeen = 0

  constructor (private readonly opts: CallTrackerOptions) {
    this.callid = opts.callid
    this.chid = opts.chid
    if (opts.startedAt !== undefined) this.startedAt = this.linkStartedAt = opts.startedAt
  }

  get legacyId (): string {
    return legacyCallId(this.chid, this.link)
  }

  /** The gateway's last sight of the call (after a restart: at least its latest event). */
  get lastSeenAt (): number {
    return Math.max(this.lastSeen, this.lastEventAt)
  }

  get legCount (): number {
    return this.legs.size
  }

  legStatus (key: string): ParticipantStatus | undefined {
    return this.legs.get(key)?.p.status
  }

  /**
   * The participant was fetched after an upsert (or seen in a snapshot). `gap`: it comes from a
   * snapshot after a gap, so a leg Connected in it was answered at some moment the gateway did not see.
   */
  upsert (p: CallParticipant, dnType: CallControlDnType, at: number, gap?: GapView): CallEvent[] {
    const key = legKey(p.dn, p.id)
    if (this.removed.has(key)) return [] // a stale fetch that finished after the remove
    const out: CallEvent[] = []
    this.lastSeen = Math.max(this.lastSeen, at)
    this.emptySince = null
    this.uncertainEnd = false
    let leg = this.legs.get(key)
    if (leg === undefined) {
      if (this.legs.size === 0 && this.startedAt === 0) {
        this.startedAt = at
        this.linkStartedAt = at
      }
      leg = this.addLeg(p, dnType, at, out)
    } else {
      if (STATUS_RANK[p.status] < STATUS_RANK[leg.p.status]) return [] // out of order: never go back from Connected
      if (p.status === leg.p.status && sameParty(leg.p, p)) return [] // duplicate upsert
      leg.p = p
      if (p.status === 'Ringing' && p.referred_by_dn !== '' && leg.referredBy === '') leg.referredBy = p.referred_by_dn
    }
    this.cachedView = null
    if (p.status === 'Connected') {
      const answered = leg.connectedAt === null && gap !== undefined ? this.answerInGap(gap, at) : { at, unsure: false }
      if (leg.connectedAt === null) leg.connectedAt = answered.at
      this.onConnected(leg, at, out, answered.at, answered.unsure)
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
    if (this.answeredAt !== null || gap.answeredAt === null) return { at, unsure: true }
    // Clock offsets and fetch latency may put it a little before the last sight of the call ringing.
    return { at: Math.min(at, Math.max(gap.answeredAt, gap.after, this.startedAt)), unsure: false }
  }

  /**
   * The leg is gone (remove event, a 404 fetch, or missing from a snapshot). `unobserved`: it was
   * missing from a snapshot, so what happened to it during the gap is not known.
   */
  remove (dn: string, id: number, at: number, unobserved = false): CallEvent[] {
    const key = legKey(dn, id)
    const leg = this.legs.get(key)
    if (leg === undefined) return [] // remove without a prior upsert: nothing we knew about
    this.legs.delete(key)
    this.removed.add(key)
    this.cachedView = null
    this.lastSeen = Math.max(this.lastSeen, at)
    const conv = this.conversation
    if (conv !== null && conv.legKey === key && conv.endedAt === null) {
      conv.endedAt = at
      // Gone from a snapshot: it ended at some moment of the gap, not when the gateway looked.
      if (unobserved) conv.endUnsure = true
    }
    if (unobserved && leg.p.dn !== this.customerDn) this.vanished.set(leg.p.dn, Math.max(leg.link, this.vanished.get(leg.p.dn) ?? 0))
    if (unobserved && leg.role === 'callee' && leg.p.status !== 'Connected' && (this.conversation === null || this.conversation.endedAt !== null)) this.uncertainAnswer = true
    if (this.legs.size === 0) {
      this.emptySince = at
      this.uncertainEnd = unobserved
    }
    return []
  }

  /**
   * The call's last legs vanished from a snapshot and the grace period is over: its end must be
   * reconciled with the PBX's record (endWithRecord) instead of expire().
   */
  awaitsReconciliation (now: number): boolean {
    // A blind transfer still unresolved at the end: the target may have been missed and the call taken back unseen.
    const unresolved = this.uncertainEnd || this.uncertainAnswer || this.transferFrom !== null
    return !this.finished && unresolved && this.emptySince !== null && now >= this.emptySince + this.opts.graceMs
  }

  /**
   * Ends a call whose end the gateway did not see, from the PBX's own record of it (call log rows):
   * the call-started events it missed, then the call-ended events with the PBX's users and talk
   * times. Without a usable record, ends it with what the model knew (as expire() would).
   */
  endWithRecord (record: PbxCallRecord | null, now: number): CallEvent[] {
    if (this.finished) return []
    const plan = record === null ? null : planReconciledEnd(this.knownCall(), record)
    if (plan === null) return this.expire(Number.MAX_SAFE_INTEGER)
    const out: CallEvent[] = []
    let floor = this.lastEventAt
    const clamp = (t: number): number => {
      floor = Math.min(Math.max(t, floor), Math.max(now, floor))
      return floor
    }
    for (const step of plan) out.push(this.reconciledEvent(step, clamp(step.at)))
    this.conversation = null
    this.finished = true
    this.cachedView = null
    return out
  }

  /**
   * A tracker for a call the gateway never saw (unseen-calls.ts), described by the PBX's record of
   * it; its endWithRecord() gives the events the call owes. Null when the record lacks its origin.
   */
  static recovered (opts: CallTrackerOptions, record: PbxCallRecord): CallTracker | null {
    const o = record.origin
    if (o === undefined) return null
    const t = new CallTracker(opts)
    t.direction = o.direction
    t.startedAt = t.linkStartedAt = o.startedAt
    t.customerDn = o.customerDn
    t.customerNumber = o.customerNumber
    t.customerName = o.customerName
    t.firstDestination = o.firstDestination
    t.missedAt = o.direction === 'outbound' ? { dn: o.fromDn, dnType: 'Wextension' } : { dn: o.firstDestination, dnType: o.firstDestinationType }
    t.emptySince = record.endedAt
    t.uncertainEnd = true
    return t
  }

  private knownCall (): KnownCall {
    let lastAnsweredLink = 0
    for (const c of this.talks) lastAnsweredLink = Math.max(lastAnsweredLink, c.link)
    return {
      talks: this.talks.map((c) => ({ user: c.user, link: c.link, ended: c.closed })),
      maxLink: this.maxLink,
      lastAnsweredLink,
      vanishedLinks: Object.fromEntries(this.vanished)
    }
  }

  private reconciledEvent (step: ReconciledStep, at: number): CallEvent {
    if (step.kind === 'missed') {
      if (step.dn !== null) this.missedAt = { dn: step.dn, dnType: step.dnType }
      return this.missedEvent(this.emptySince ?? at, at)
    }
    if (step.kind === 'started') {
      this.maxLink = Math.max(this.maxLink, step.link)
      this.link = step.link
      this.linkAnswered = true
      this.answeredAt ??= at
      const conv: Conversation = {
        user: step.user, closed: false, legKey: '', link: step.link, answeredAt: at, trtype: step.trtype,
        callerid: this.customerNumber, callername: this.customerName, endedAt: null
      }
      this.talks.push(conv)
      return eventOf({
        event: this.direction === 'outbound' ? 'hangupoutgoing' : 'hangupincoming',
        callerid: conv.callerid,
        user: conv.user,
        did: this.eventDid(),
        trtype: conv.trtype,
        ...this.common(conv.link, at, conv.callername)
      })
    }
    let conv = this.talks.find((c) => !c.closed && c.user === step.user && c.link === step.link) ?? this.talks.find((c) => !c.closed && c.user === step.user)
    if (conv === undefined) {
      // Taken back after a blind transfer nobody answered: the conversation ended at the transfer goes on.
      const before = [...this.talks].reverse().find((c) => c.user === step.user && c.link === step.link)
      if (before === undefined) throw new Error(`reconciliation ended a conversation the call never had (${step.user})`)
      conv = { ...before, closed: false, endedAt: null }
      this.talks.push(conv)
    }
    conv.endedAt = step.seconds === null ? (conv.endedAt ?? this.emptySince ?? at) : conv.answeredAt + step.seconds * 1000
    conv.closed = true
    const duration = step.seconds !== null ? Math.round(step.seconds) : Math.max(0, Math.round((conv.endedAt - conv.answeredAt) / 1000))
    // The PBX's talk time is exact whatever the gateway saw; its own times are as sure as they were.
    const timing = step.seconds !== null ? undefined : timingOf(conv)
    return withParticipants(this.endedEvent({ callerid: conv.callerid, user: conv.user, finishtype: 'Ok', transfer: step.transfer, seconds: duration }, duration, conv.link, at, conv.callername, timing), conv)
  }

  /** When the owner must call expire(), or null when nothing is pending. */
  deadline (): number | null {
    if (this.finished) return null
    const times: number[] = []
    // With an answer that may have been missed, whether the conversation was transferred is the PBX's record's to say.
    if (this.conversation?.endedAt != null && !this.uncertainAnswer && !this.consultationGoesOn(this.conversation)) times.push(this.conversation.endedAt + this.opts.graceMs)
    if (this.emptySince !== null) times.push(this.emptySince + this.opts.graceMs)
    return times.length === 0 ? null : Math.min(...times)
  }

  /**
   * The user of an ended conversation left a consultation target in the call (an attended transfer
   * completing): whether the conversation was transferred is known only once that leg turns to the
   * customer or goes, however late its change arrives (a slow fetch, a starved gateway).
   */
  private consultationGoesOn (conv: Conversation): boolean {
    for (const l of this.legs.values()) if (l.consultTarget && !l.answered && l.p.party_dn === conv.user) return true
    return false
  }

  /** Ends what the grace period has run out for. */
  expire (now: number): CallEvent[] {
    const out: CallEvent[] = []
    const conv = this.conversation
    if (conv?.endedAt != null && !this.uncertainAnswer && !this.consultationGoesOn(conv) && now >= conv.endedAt + this.opts.graceMs) {
      out.push(this.endConversation(conv, false))
    }
    if (this.emptySince !== null && now >= this.emptySince + this.opts.graceMs) {
      if (this.conversation !== null) out.push(this.endConversation(this.conversation, false))
      if (!this.linkAnswered) out.push(this.missedEvent(this.emptySince))
      this.finished = true
      this.cachedView = null
    }
    return out
  }

  /** The tracker's whole state as plain JSON (persisted so a restarted gateway resumes the call). */
  toState (): CallTrackerState {
    const index = (c: Conversation | null): number | null => (c === null ? null : this.talks.indexOf(c))
    return {
      v: CALL_TRACKER_STATE_VERSION,
      direction: this.direction,
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
      legs: [...this.legs.values()].map(({ key: _key, ...leg }) => ({ ...leg })),
      removed: [...this.removed],
      link: this.link,
      maxLink: this.maxLink,
      linkAnswered: this.linkAnswered,
      linkStartedAt: this.linkStartedAt,
      ringingSent: [...this.ringingSent],
      talks: this.talks.map((c) => ({ ...c })),
      conversation: index(this.conversation),
      transferFrom: this.transferFrom === null ? null : { conv: this.talks.indexOf(this.transferFrom.conv), targetKey: this.transferFrom.targetKey },
      customerDn: this.customerDn,
      customerNumber: this.customerNumber,
      customerName: this.customerName,
      firstDestination: this.firstDestination,
      partyDid: this.partyDid,
      did: this.did,
      missedAt: this.missedAt,
      emptySince: this.emptySince,
      vanished: [...this.vanished],
      uncertainEnd: this.uncertainEnd,
      uncertainAnswer: this.uncertainAnswer,
      lastEventAt: this.lastEventAt,
      lastSeenAt: this.lastSeen
    }
  }

  /** A tracker resumed from toState()'s output; null when the state is of another version. */
  static fromState (opts: CallTrackerOptions, s: CallTrackerState): CallTracker | null {
    if (s.v !== CALL_TRACKER_STATE_VERSION) return null
    const t = new CallTracker(opts)
    t.direction = s.direction
    t.startedAt = s.startedAt
    t.answeredAt = s.answeredAt
    for (const leg of s.legs) {
      const key = legKey(leg.p.dn, leg.p.id)
      t.legs.set(key, { ...leg, key })
    }
    for (const k of s.removed) t.removed.add(k)
    t.link = s.link
    t.maxLink = s.maxLink
    t.linkAnswered = s.linkAnswered
    t.linkStartedAt = s.linkStartedAt
    for (const m of s.ringingSent) t.ringingSent.add(m)
    t.talks = s.talks.map((c) => ({ ...c }))
    t.conversation = s.conversation === null ? null : t.talks[s.conversation] ?? null
    const from = s.transferFrom === null ? undefined : t.talks[s.transferFrom.conv]
    t.transferFrom = from === undefined || s.transferFrom === null ? null : { conv: from, targetKey: s.transferFrom.targetKey }
    t.customerDn = s.customerDn
    t.customerNumber = s.customerNumber
    t.customerName = s.customerName
    t.firstDestination = s.firstDestination
    t.partyDid = s.partyDid
    t.did = s.did
    t.missedAt = s.missedAt
    t.emptySince = s.emptySince
    for (const [dn, link] of s.vanished) t.vanished.set(dn, link)
    t.uncertainEnd = s.uncertainEnd
    t.uncertainAnswer = s.uncertainAnswer === true
    t.lastEventAt = s.lastEventAt
    t.lastSeen = s.lastSeenAt ?? 0
    return t
  }

  /**
   * The conversation of `user` in `link` may still go on: it is open, or a blind transfer from it
   * is unresolved (the call may come back to `user` under the same link). Its recording waits.
   */
  conversationMayContinue (user: string, link: number): boolean {
    if (this.finished) return false
    const c = this.conversation
    if (c !== null && !c.closed && c.user === user && c.link === link) return true
    const from = this.transferFrom?.conv
    return from !== undefined && from.user === user && from.link === link
  }

  /** Participant keys currently known (for snapshot reconciliation). */
  legKeys (): IterableIterator<string> {
    return this.legs.keys()
  }

  view (): LiveCall {
    if (this.cachedView !== null) return this.cachedView
    const legs: LiveLeg[] = []
    for (const l of this.legs.values()) {
      legs.push({
        dn: l.p.dn,
        dnType: legacyDnType(l.dnType),
        participantId: l.p.id,
        status: l.p.status,
        externalParty: l.p.party_caller_id !== '' ? l.p.party_caller_id : l.p.party_dn,
        callerName: l.p.party_caller_name,
        firstSeenAt: l.firstSeenAt,
        connectedAt: l.connectedAt
      })
    }
    this.cachedView = {
      callid: this.callid,
      chid: this.chid,
      legacyId: this.legacyId,
      direction: this.liveDirection(),
      did: this.direction === 'inbound' ? this.didName() : '',
      state: this.state(),
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
      legs
    }
    return this.cachedView
  }

  private liveDirection (): CallDirection {
    const distributed = [...this.legs.values()].some((l) => l.role === 'callee' || (l.role === 'origin' && this.direction === 'outbound'))
    if (this.direction === 'outbound') return 'Outbound'
    if (this.direction === 'internal') return distributed ? 'Internal' : 'FromInternal'
    return distributed ? 'Inbound' : 'FromExternal'
  }

  private state (): CallState {
    const conv = this.conversation
    const legs = [...this.legs.values()]
    const transferring = this.transferFrom !== null || legs.some((l) => l.consultTarget || l.role === 'consult')
    if (conv !== null && conv.endedAt === null) return transferring ? 'Transferring' : 'Talking'
    if (transferring) return 'Transferring'
    if (this.answeredAt !== null) return 'Rerouting'
    if (legs.some((l) => l.p.status === 'Ringing' || l.role === 'routing')) return 'Routing'
    return legs.length > 0 ? 'Initiating' : 'Unknown'
  }

  private addLeg (p: CallParticipant, dnType: CallControlDnType, at: number, out: CallEvent[]): Leg {
    const role = this.classify(p, dnType)
    const leg: Leg = {
      key: legKey(p.dn, p.id),
      p,
      dnType,
      role,
      firstSeenAt: at,
      connectedAt: null,
      link: this.link,
      // Meaningful while ringing; a leg first seen already Connected (its ringing fetched too late)
      // still tells who blind-transferred it.
      referredBy: p.status === 'Dialing' ? '' : p.referred_by_dn,
      consultTarget: false,
      answered: false
    }
    this.legs.set(leg.key, leg)
    if (this.customerName === '' && role !== 'trunk' && p.party_dn === this.customerDn) this.customerName = p.party_caller_name
    if (role === 'routing') {
      this.noteDestination(p.dn)
      if (p.on_behalf_of_dn === '') this.missedAt = { dn: p.dn, dnType }
      this.ringing(leg, at, out)
    } else if (role === 'callee' && this.isConsultParty(p)) {
      // The consultation of an attended transfer, ringing or already answered (its ringing unseen).
      this.noteDestination(p.dn)
      leg.consultTarget = true
      leg.link = ++this.maxLink
      if (p.status === 'Ringing') this.ringing(leg, at, out)
    } else if (role === 'callee' && p.status !== 'Connected') {
      this.noteDestination(p.dn)
      if (leg.referredBy !== '') {
        this.startBlindTransfer(leg, at, out)
      } else if (p.on_behalf_of_dn === '') {
        this.missedAt = { dn: p.dn, dnType }
      }
      if (p.status === 'Ringing') this.ringing(leg, at, out)
    } else if (role === 'origin' && this.direction === 'outbound') {
      this.missedAt = { dn: p.dn, dnType }
    } else if (role === 'consult') {
      // Its target may have been fetched first (fetches race): it rang for this consultation.
      for (const l of this.legs.values()) {
        if (l.role === 'callee' && !l.answered && !l.consultTarget && l.p.party_dn === p.dn) {
          l.consultTarget = true
          l.link = ++this.maxLink
        }
      }
    }
    return leg
  }

  /** Decides the leg's role, and the call's direction from its first legs. */
  private classify (p: CallParticipant, dnType: CallControlDnType): LegRole {
    const partyExternal = p.party_dn_type === 'Wexternalline'
    if (dnType === 'Wroutepoint') return 'routepoint'
    if (dnType === 'Wexternalline') {
      if (this.direction === null) {
        this.direction = p.status === 'Dialing' ? 'outbound' : 'inbound'
        this.customerDn = p.dn
        this.customerNumber = p.party_caller_id !== '' ? p.party_caller_id : p.party_caller_name
        if (p.party_dn_type !== 'Wexternalline') this.noteDestination(p.party_dn)
      }
      if (this.partyDid === '' && p.party_did !== '') this.partyDid = p.party_did
      return 'trunk'
    }
    // The caller's own leg: Dialing, or (first seen in a snapshot) Connected without a router or
    // queue behind it. A Dialing leg of an extension already in the call is a consultation call;
    // one of an extension not yet in it is the caller's, fetched after its callee's (fetches race).
    const ownCall = p.status === 'Dialing' || (this.direction === null && p.status === 'Connected' && p.originated_by_dn === '' && p.on_behalf_of_dn === '' && p.referred_by_dn === '')
    if (dnType === 'Wextension' && ownCall) {
      if (this.direction !== null) return this.isCallerLeg(p) ? 'origin' : 'consult'
      this.direction = partyExternal ? 'outbound' : 'internal'
      this.customerDn = partyExternal ? p.party_dn : p.dn
      this.customerNumber = partyExternal ? p.party_caller_id : p.dn
      return 'origin'
    }
    if (this.direction === null) {
      this.direction = partyExternal ? 'inbound' : 'internal'
      this.customerDn = p.party_dn
      this.customerNumber = p.party_caller_id !== '' ? p.party_caller_id : p.party_caller_name
      this.customerName = p.party_caller_name
    }
    if (this.partyDid === '' && p.party_did !== '') this.partyDid = p.party_did
    return dnType === 'Wextension' ? 'callee' : 'routing'
  }

  private noteDestination (dn: string): void {
    if (this.firstDestination === '' && dn !== '') this.firstDestination = dn
  }

  /** A Dialing extension leg seen after other legs: the caller's own when its extension is the one the others talk to and it has no leg yet. */
  private isCallerLeg (p: CallParticipant): boolean {
    for (const l of this.legs.values()) if (l.role === 'origin' || l.p.dn === p.dn) return false
    return this.direction === 'internal' ? p.dn === this.customerDn : this.direction === 'outbound'
  }

  /**
   * The leg's other party is an extension of this call consulting it: one with a consultation leg
   * (Dialing inside the call), or the extension talking to the customer (its consultation leg not
   * fetched yet, or never: it may be gone before its fetch).
   */
  private isConsultParty (p: CallParticipant): boolean {
    if (p.party_dn_type !== 'Wextension' || p.party_dn === this.customerDn) return false
    for (const l of this.legs.values()) if (l.role === 'consult' && l.p.dn === p.party_dn) return true
    const conv = this.conversation
    return conv !== null && conv.endedAt === null && conv.user === p.party_dn
  }

  /**
   * An extension that starts talking to the customer after another one did, neither referred (blind
   * transfer) nor routed (router, queue, ring group): it can only have been reached through an attended
   * transfer whose consultation the gateway did not see (its legs went before they were fetched, or
   * during a gap). 3CX's call log shows the consultation later; the leg itself is all there is now.
   */
  private unseenConsultation (leg: Leg): boolean {
    const p = leg.p
    if (p.on_behalf_of_dn !== '' || p.originated_by_type === 'Wroutepoint') return false
    return this.talks.some((c) => c.user !== p.dn)
  }

  /** Talking to the party the call is about: the external side, or the calling extension. */
  private talksToCustomer (leg: Leg): boolean {
    if (leg.role !== 'callee' && !(leg.role === 'origin' && this.direction === 'outbound')) return false
    if (this.direction === 'internal') return leg.p.party_dn === this.customerDn
    return leg.p.party_dn_type === 'Wexternalline' || (this.customerDn !== '' && leg.p.party_dn === this.customerDn)
  }

  private ringing (leg: Leg, at: number, out: CallEvent[]): void {
    const mark = `${leg.link}:${leg.p.dn}`
    if (this.ringingSent.has(mark)) return
    this.ringingSent.add(mark)
    const p = leg.p
    out.push(eventOf({
      event: 'ringing',
      callerid: p.party_caller_id !== '' ? p.party_caller_id : p.party_caller_name,
      did: this.eventDid(),
      user: p.dn,
      usertype: usertypeOf(leg.dnType),
      ...this.common(leg.link, at, p.party_caller_name)
    }))
  }

  private startBlindTransfer (leg: Leg, at: number, out: CallEvent[]): void {
    const conv = this.conversation
    if (conv !== null && (conv.user === leg.referredBy || conv.endedAt !== null)) {
      conv.endedAt ??= at
      out.push(this.endConversation(conv, true))
      this.transferFrom = { conv, targetKey: leg.key }
    }
    this.link = ++this.maxLink
    leg.link = this.link
    this.linkAnswered = false
    this.linkStartedAt = at
    this.missedAt = { dn: leg.p.dn, dnType: leg.dnType }
  }

  /** `unsure`: answered during a gap, the PBX did not say when (answeredAt is when the gateway saw it). */
  private onConnected (leg: Leg, at: number, out: CallEvent[], answeredAt = at, unsure = false): void {
    if (leg.answered || !this.talksToCustomer(leg)) return // queue/IVR "answers", consultations
    const back = this.transferFrom
    if (back !== null && back.conv.user === leg.p.dn && this.legs.get(back.targetKey)?.answered !== true) {
      // The blind-transfer target did not answer: the call returned to the transferor, same link.
      const conv: Conversation = { ...back.conv, closed: false, legKey: leg.key, priorLegKeys: [...back.conv.priorLegKeys ?? [], back.conv.legKey], endedAt: null }
      this.talks.push(conv)
      this.conversation = conv
      this.link = conv.link
      this.linkAnswered = true
      this.transferFrom = null
      leg.answered = true
      return
    }
    const previous = this.conversation
    if (previous !== null && previous.endedAt !== null && previous.user === leg.p.dn && leg.referredBy === '' && !leg.consultTarget) {
      // The extension's leg vanished in a gap and it talks again on a new leg (a blind transfer
      // nobody took, unseen): the same conversation goes on, nothing is announced again.
      previous.priorLegKeys = [...previous.priorLegKeys ?? [], previous.legKey]
      previous.legKey = leg.key
      previous.endedAt = null
      delete previous.endUnsure
      leg.answered = true
      return
    }
    const trtype: TransferType = leg.referredBy !== '' ? 'Blind' : leg.consultTarget || this.unseenConsultation(leg) ? 'Accomp' : 'NotDef'
    if (previous !== null && previous.legKey !== leg.key) {
      previous.endedAt ??= at
      // Its leg went in the gap that this answer fell into: it ended by the answer at the latest.
      if (previous.endUnsure === true) previous.endedAt = Math.max(previous.answeredAt, Math.min(previous.endedAt, answeredAt))
      out.push(this.endConversation(previous, true))
    }
    // A transfer target rang in the next link already; a first answer opens link 1.
    this.link = leg.link > 0 && (leg.link > this.link || !this.linkAnswered) ? leg.link : ++this.maxLink
    this.maxLink = Math.max(this.maxLink, this.link)
    this.linkAnswered = true
    this.transferFrom = null
    leg.answered = true
    this.answeredAt ??= answeredAt
    const p = leg.p
    const conv: Conversation = {
      user: p.dn,
      closed: false,
      legKey: leg.key,
      link: this.link,
      answeredAt,
      trtype,
      callerid: p.party_caller_id !== '' ? p.party_caller_id : p.party_caller_name,
      callername: p.party_caller_name,
      endedAt: null,
      ...(unsure ? { answerUnsure: true } : {})
    }
    this.conversation = conv
    this.talks.push(conv)
    // Stamped when it was answered: the PBX's time for an answer the gateway did not see.
    const started: StartedPayload = {
      event: this.direction === 'outbound' ? 'hangupoutgoing' : 'hangupincoming',
      callerid: conv.callerid,
      user: conv.user,
      did: this.eventDid(),
      trtype,
      ...this.common(conv.link, answeredAt, conv.callername)
    }
    out.push(eventOf(withTiming(started, timingOf(conv))))
  }

  private endConversation (conv: Conversation, transfer: boolean): CallEvent {
    if (this.conversation === conv) this.conversation = null
    conv.closed = true
    const endedAt = conv.endedAt ?? conv.answeredAt
    const duration = Math.max(0, Math.round((endedAt - conv.answeredAt) / 1000))
    return withParticipants(this.endedEvent({ callerid: conv.callerid, user: conv.user, finishtype: 'Ok', transfer, seconds: duration }, duration, conv.link, endedAt, conv.callername, timingOf(conv)), conv)
  }

  /** `at`: when the call ended; `stamp`: the event's timestamp (the same unless reconciled later). */
  private missedEvent (at: number, stamp = at): CallEvent {
    const where = this.missedAt ?? { dn: this.firstDestination, dnType: 'None' }
    const missedAt = { dn: where.dn, usertype: usertypeOf(where.dnType), dnType: where.dnType }
    const facts = { callerid: this.customerNumber, user: where.dn, finishtype: 'Missed' as const, transfer: false, seconds: (at - this.linkStartedAt) / 1000, missedAt }
    return this.endedEvent(facts, 0, this.link, stamp, this.customerName)
  }

  private endedEvent (f: Omit<TitleFacts, 'direction' | 'did'> & { user: string }, duration: number, link: number, at: number, callername: string, timing?: Timing): CallEvent {
    const did = this.eventDid()
    const payload: EndedPayload = {
      event: this.direction === 'outbound' ? 'outgoing' : 'incoming',
      callerid: f.callerid,
      user: f.user,
      did,
      finishtype: f.finishtype,
      transfer: f.transfer ? 'true' : 'false',
      title: callTitle({ ...f, direction: this.direction ?? 'inbound', did }),
      duration,
      ...this.common(link, at, callername)
    }
    return eventOf(withTiming(payload, timing))
  }

  private common (link: number, at: number, callername: string): { id: string, chid: string, timestamp: string, callername?: string } {
    // A chain's timestamps never go back: an end stamped when its leg went (before the grace
    // period) must not predate an event already sent meanwhile.
    this.lastEventAt = Math.max(this.lastEventAt, at)
    const c: { id: string, chid: string, timestamp: string, callername?: string } = {
      id: legacyCallId(this.chid, link),
      chid: this.chid,
      timestamp: new Date(this.lastEventAt).toISOString()
    }
    if (callername !== '') c.callername = callername
    return c
  }

  private eventDid (): string {
    return this.direction === 'inbound' ? this.didName() : ''
  }

  /** Resolved once the first destination is known, then fixed for the call. */
  private didName (): string {
    if (this.did !== null) return this.did
    const lookup = this.opts.didLookup
    const name = lookup === undefined
      ? this.partyDid
      : lookup({ trunkDn: this.customerDn, did: this.partyDid, firstDestination: this.firstDestination, fallback: this.partyDid })
    if (this.firstDestination !== '' || this.partyDid !== '') this.did = name
    return name
  }
}

/** The conversation's Call Control participant ids on its ended event (the recordings pipeline matches files by them). */
function withParticipants (e: CallEvent, conv: Conversation): CallEvent {
  const ids = [...conv.priorLegKeys ?? [], conv.legKey].map((k) => Number(k.slice(k.lastIndexOf('#') + 1))).filter((id) => Number.isSafeInteger(id) && id > 0)
  return { ...e, participants: [...new Set(ids)] }
}

/** Whether the conversation's times are what the gateway saw in place of times it could not learn. */
function timingOf (conv: Conversation): Timing | undefined {
  return conv.answerUnsure === true || conv.endUnsure === true ? 'approximate' : undefined
}

function withTiming<P extends { timing?: Timing }> (payload: P, timing: Timing | undefined): P {
  return timing === undefined ? payload : { ...payload, timing }
}

function sameParty (a: CallParticipant, b: CallParticipant): boolean {
  return a.party_dn === b.party_dn && a.party_caller_id === b.party_caller_id && a.party_dn_type === b.party_dn_type
}
