// The state of one CallTracker: a plain JSON record that the tracker works on directly and that is
// persisted as is (store/sqlite-call-state.ts keeps it in SQLite), so a gateway restarted after a
// crash resumes a call in progress with the same chid and link counter and without announcing
// anything twice. Conversations are stored once, in `talks`; the current one and a pending blind
// transfer point into that list by index.
import type { CallControlDnType, CallParticipant } from '../../pbx/callcontrol-types.js'
import type { TransferType } from '../call-events.js'
import type { DidQuery } from '../did-map.js'

/** Bumped when the shape changes incompatibly; a stored state of another version is ignored. */
export const CALL_TRACKER_STATE_VERSION = 1

/** One participant of the call and what the tracker derived for it. */
export interface LegState {
  p: CallParticipant
  dnType: CallControlDnType
  role: 'trunk' | 'origin' | 'consult' | 'routing' | 'callee' | 'routepoint'
  firstSeenAt: number
  connectedAt: number | null
  /** Link the leg rang in (a blind or consultation target gets the next link). */
  link: number
  /** Reached through a blind transfer (`referred_by_dn` seen while ringing). */
  referredBy: string
  /** Rang as the target of a consultation call (attended transfer). */
  consultTarget: boolean
  /** A call-started event was sent for this leg. */
  answered: boolean
}

/** A conversation announced with a call-started event. */
export interface ConversationState {
  user: string
  /** Its call-ended event was emitted. */
  closed: boolean
  legKey: string
  /** Earlier legs of the same conversation (taken back after a blind transfer, or back after a gap); absent when none. */
  priorLegKeys?: string[]
  link: number
  answeredAt: number
  trtype: TransferType
  callerid: string
  callername: string
  /** When its leg went away; the ended event waits for the grace period (or a transfer). */
  endedAt: number | null
  /** It was answered during a gap and the PBX did not say when: `answeredAt` is when the gateway saw it. Absent when known. */
  answerUnsure?: boolean
  /** Its leg vanished during a gap: `endedAt` is when the gateway saw it gone. Absent when known. */
  endUnsure?: boolean
}

export type Direction = 'inbound' | 'outbound' | 'internal'

export interface CallTrackerState {
  v: number
  direction: Direction | null
  startedAt: number
  answeredAt: number | null
  legs: LegState[]
  removed: string[]
  link: number
  maxLink: number
  linkAnswered: boolean
  linkStartedAt: number
  /** `link:dn` of every ringing event sent. */
  ringingSent: string[]
  talks: ConversationState[]
  /** Index into talks, or null. */
  conversation: number | null
  transferFrom: { conv: number, targetKey: string } | null
  customerDn: string
  customerNumber: string
  customerName: string
  firstDestination: string
  partyDid: string
  did: string | null
  missedAt: { dn: string, dnType: CallControlDnType } | null
  emptySince: number | null
  vanished: Array<[string, number]>
  uncertainEnd: boolean
  /** Absent in states written before it existed. */
  uncertainAnswer?: boolean
  /**
   * An extension the caller's (trunk) leg was seen connected to without any leg of that extension
   * ever read: its legs came and went before their reads (a loaded machine, a slow PBX), so it may
   * have answered unseen. Absent when none (and in states written before it existed).
   */
  answerUnseenBy?: string
  lastEventAt: number
  /** When the tracker last saw a change of the call (absent in states written before it existed). */
  lastSeenAt?: number
}

/** What the derivation of one call works on: its state and the facts fixed for the call. */
export interface Derivation {
  readonly chid: string
  readonly s: CallTrackerState
  /** DID rule lookup for inbound calls. */
  readonly didLookup?: (q: DidQuery) => string
}

/** The state of a call the tracker has not seen a participant of yet. */
export function emptyTrackerState (startedAt = 0): CallTrackerState {
  return {
    v: CALL_TRACKER_STATE_VERSION,
    direction: null,
    startedAt,
    answeredAt: null,
    legs: [],
    removed: [],
    link: 0,
    maxLink: 0,
    linkAnswered: false,
    linkStartedAt: startedAt,
    ringingSent: [],
    talks: [],
    conversation: null,
    transferFrom: null,
    customerDn: '',
    customerNumber: '',
    customerName: '',
    firstDestination: '',
    partyDid: '',
    did: null,
    missedAt: null,
    emptySince: null,
    vanished: [],
    uncertainEnd: false,
    uncertainAnswer: false,
    lastEventAt: 0,
    lastSeenAt: 0
  }
}

/**
 * A stored state made ready to work on: a copy, with the fields older versions did not write filled
 * in and indexes that point nowhere dropped. Null when the state is of another version.
 */
export function restoreTrackerState (stored: CallTrackerState): CallTrackerState | null {
  if (stored.v !== CALL_TRACKER_STATE_VERSION) return null
  const s = structuredClone(stored)
  s.uncertainAnswer = s.uncertainAnswer === true
  s.lastSeenAt ??= 0
  if (s.conversation !== null && s.talks[s.conversation] === undefined) s.conversation = null
  if (s.transferFrom !== null && s.talks[s.transferFrom.conv] === undefined) s.transferFrom = null
  return s
}

export function legKey (dn: string, id: number): string {
  return `${dn}#${id}`
}

export function keyOf (leg: LegState): string {
  return legKey(leg.p.dn, leg.p.id)
}

export function legOf (s: CallTrackerState, key: string): LegState | undefined {
  return s.legs.find((l) => keyOf(l) === key)
}

/** The conversation going on (or ended and waiting for its grace period), or null. */
export function currentConversation (s: CallTrackerState): ConversationState | null {
  return s.conversation === null ? null : s.talks[s.conversation] ?? null
}

/** Makes `conv` (one of `talks`) the current conversation, or clears it. */
export function setCurrentConversation (s: CallTrackerState, conv: ConversationState | null): void {
  s.conversation = conv === null ? null : s.talks.indexOf(conv)
}

/**
 * The user of an ended conversation left a consultation target in the call (an attended transfer
 * completing): whether the conversation was transferred is known only once that leg turns to the
 * customer or goes, however late its change arrives (a slow fetch, a starved gateway).
 */
export function consultationGoesOn (s: CallTrackerState, conv: ConversationState): boolean {
  return s.legs.some((l) => l.consultTarget && !l.answered && l.p.party_dn === conv.user)
}

/** The conversation a blind transfer left, while its target has not answered. */
export function transferredConversation (s: CallTrackerState): ConversationState | null {
  return s.transferFrom === null ? null : s.talks[s.transferFrom.conv] ?? null
}

