// The high-level call events of webhooks.md §1 as the call model emits them, and the small pure
// builders for their human parts (title, m:ss). Payload field names are the legacy lower-case ones;
// values are strings except `duration` (a number) and `FILES` (an array).
import type { WebhookEventType } from '../config.js'

export type UserType = 'ext' | 'queue' | 'other'
export type TransferType = 'NotDef' | 'Blind' | 'Accomp'
export type FinishType = 'Ok' | 'Missed'
/** Direction as the legacy event names see it: internal calls count as incoming (sent from the called side). */
export type EventDirection = 'incoming' | 'outgoing'

interface CommonFields {
  /** Legacy call id `YYMMDDhhmmss_N-L`. */
  id: string
  chid: string
  /** ISO-8601 UTC of the moment the gateway observed the change. */
  timestamp: string
  callername?: string
}

/**
 * On call-started and call-ended events whose answer (or end) fell into a gap in what the gateway
 * saw, and the PBX did not say when it happened: the timestamp is when the gateway saw it after the
 * gap, and the duration counts from (or to) then. Absent when the times are the PBX's or observed.
 */
export type Timing = 'approximate'

export interface RingingPayload extends CommonFields {
  event: 'ringing'
  callerid: string
  did: string
  user: string
  usertype: UserType
}

export interface StartedPayload extends CommonFields {
  /** Legacy names; `WEBHOOK_EVENT_NAMES=pickup` renames them when sending (payload.ts). */
  event: 'hangupincoming' | 'hangupoutgoing'
  callerid: string
  user: string
  did: string
  trtype: TransferType
  timing?: Timing
}

export interface EndedPayload extends CommonFields {
  event: 'incoming' | 'outgoing'
  callerid: string
  user: string
  did: string
  finishtype: FinishType
  transfer: 'true' | 'false'
  title: string
  duration: number
  timing?: Timing
}

export type RecordingPayload = Partial<Omit<EndedPayload, 'event'>> & CommonFields & {
  event: 'recording'
  FILES: string[]
}

export type WebhookPayload = RingingPayload | StartedPayload | EndedPayload | RecordingPayload

/** One derived event: its payload plus what targets filter and order on. */
export interface CallEvent {
  type: WebhookEventType
  /** Ordering key: events of one chain go out to a target in order. */
  chain: string
  /** Target filters: the DN in the event and the DID rule name ('' when none). */
  user: string
  did: string
  payload: WebhookPayload
  /**
   * On call-ended events of a conversation: the Call Control participant ids of its extension
   * leg(s), which 3CX stores with the recording (`RefParticipantId`). In process only, never sent.
   */
  participants?: number[]
  /**
   * The event's natural key: the same whenever the call model derives this event again (a holder
   * resuming a call from a state older than its committed events), different for every other event.
   * The outbox stores one event per key and derives the webhook id from it. Absent: always new.
   */
  key?: string
}

export function eventOf (payload: WebhookPayload): CallEvent {
  const type: WebhookEventType = payload.event === 'ringing'
    ? 'ringing'
    : payload.event === 'recording'
      ? 'recording'
      : payload.event === 'incoming' || payload.event === 'outgoing' ? 'ended' : 'started'
  return { type, chain: payload.chid, user: payload.user ?? '', did: payload.did ?? '', payload }
}

/** Seconds as `m:ss` (hours fold into minutes: `75:03`). */
export function minutesSeconds (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

export interface TitleFacts {
  direction: 'inbound' | 'outbound' | 'internal'
  did: string
  /** The other party: external number, or the calling extension. */
  callerid: string
  finishtype: FinishType
  transfer: boolean
  /** Conversation seconds (answered) or waiting seconds (missed). */
  seconds: number
  /** Where a missed call ended: the DN and its kind. */
  missedAt?: { dn: string, usertype: UserType, dnType: string }
  callbackRequested?: boolean
}

function missedWhere (m: TitleFacts['missedAt']): string {
  if (m === undefined) return ''
  if (m.usertype === 'queue') return ` in queue ${m.dn}`
  if (m.dnType === 'Wringgroup') return ` in ring group ${m.dn}`
  if (m.dnType === 'Wivr') return ` in IVR ${m.dn}`
  return ` to ${m.dn}`
}

/** One human sentence, e.g. `Sales line: answered call from +15557654321 (1:05)`. */
export function callTitle (f: TitleFacts): string {
  const time = `(${minutesSeconds(f.seconds)})`
  const callback = f.callbackRequested === true ? ', callback requested' : ''
  const transferred = f.transfer ? ', transferred' : ''
  let sentence: string
  if (f.direction === 'outbound') {
    sentence = f.finishtype === 'Ok' ? `outgoing call to ${f.callerid}${transferred}` : `unanswered outgoing call to ${f.callerid}`
  } else {
    const kind = f.direction === 'internal' ? 'internal call' : 'call'
    sentence = f.finishtype === 'Ok'
      ? `answered ${kind} from ${f.callerid}${transferred}`
      : `missed ${kind}${missedWhere(f.missedAt)} from ${f.callerid}${callback}`
  }
  if (f.did !== '') return `${f.did}: ${sentence} ${time}`
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)} ${time}`
}

export function usertypeOf (dnType: string): UserType {
  if (dnType === 'Wextension') return 'ext'
  if (dnType === 'Wqueue') return 'queue'
  return 'other'
}

export interface RecordingPayloadInput {
  legacyId: string
  chid: string
  files: string[]
  /** The leg's call-ended payload, when still known. */
  ended?: EndedPayload | null
  /** `RECORDING_FULL_INFO`: copy every call-ended field. */
  fullInfo: boolean
  at: number
}

/** The `recording` event for a finished leg (the recordings pipeline calls this). */
export function recordingEvent (r: RecordingPayloadInput): CallEvent {
  const base = { id: r.legacyId, chid: r.chid, timestamp: new Date(r.at).toISOString() }
  const ended = r.ended ?? null
  let payload: RecordingPayload
  if (r.fullInfo && ended !== null) {
    const { event: _event, ...fields } = ended
    payload = { ...fields, ...base, event: 'recording', FILES: r.files }
  } else {
    payload = { event: 'recording', ...base, FILES: r.files }
    if (ended?.callername !== undefined) payload.callername = ended.callername
  }
  return { type: 'recording', chain: r.chid, user: ended?.user ?? '', did: ended?.did ?? '', payload }
}
