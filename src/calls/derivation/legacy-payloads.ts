// The webhook payloads of one call in the legacy generator's shape (webhooks.md §3): ringing,
// call-started (hangupincoming/hangupoutgoing) and call-ended (incoming/outgoing), built from the
// tracker's state. Each event moves the call's last event time on (a chain's timestamps never go back).
import {
  callTitle, eventOf, usertypeOf,
  type CallEvent, type EndedPayload, type StartedPayload, type TitleFacts, type Timing
} from '../call-events.js'
import { legacyCallId } from '../legacy-call-id.js'
import type { ConversationState, Derivation, LegState } from './tracker-state.js'

/** The number the legacy payloads show for a party: its caller id, else its name. */
export function callerIdOf (p: { party_caller_id: string, party_caller_name: string }): string {
  return p.party_caller_id !== '' ? p.party_caller_id : p.party_caller_name
}

// Natural keys (CallEvent.key): what the tracker itself allows once. A ringing per DN and link
// (ringingSent), a start and an end per conversation, a missed end per call. A conversation is named
// by its link, its user and how many conversations of that user in that link came before it (one
// taken back is another one): facts the PBX's record gives too, so a call announced live by a holder
// killed before its state was written and then recovered from the call log (call-recovery.ts) by the
// next gets the same keys on both paths. Re-derived from an older state, an event gets the same key
// as the committed one; a key never names two different events.
function conversationKey (d: Derivation, kind: 'started' | 'ended', conv: ConversationState): string {
  const nth = d.s.talks.filter((c) => c.link === conv.link && c.user === conv.user).indexOf(conv)
  return `${d.chid}:${kind}:${conv.link}:${conv.user}:${nth}`
}

function keyed (e: CallEvent, key: string): CallEvent {
  return { ...e, key }
}

export function ringingEvent (d: Derivation, leg: LegState, at: number): CallEvent {
  const p = leg.p
  return keyed(eventOf({
    event: 'ringing',
    callerid: callerIdOf(p),
    did: eventDid(d),
    user: p.dn,
    usertype: usertypeOf(leg.dnType),
    ...common(d, leg.link, at, p.party_caller_name)
  }), `${d.chid}:ringing:${leg.link}:${p.dn}`)
}

/** The call-started event of a conversation, stamped `at` (when it was answered). */
export function startedEvent (d: Derivation, conv: ConversationState, at: number, timing?: Timing): CallEvent {
  const started: StartedPayload = {
    event: d.s.direction === 'outbound' ? 'hangupoutgoing' : 'hangupincoming',
    callerid: conv.callerid,
    user: conv.user,
    did: eventDid(d),
    trtype: conv.trtype,
    ...common(d, conv.link, at, conv.callername)
  }
  return keyed(eventOf(withTiming(started, timing)), conversationKey(d, 'started', conv))
}

/** The call-ended event of a conversation that lasted `seconds`, stamped `at`. */
export function conversationEndedEvent (d: Derivation, conv: ConversationState, transfer: boolean, seconds: number, at: number, timing?: Timing): CallEvent {
  const facts = { callerid: conv.callerid, user: conv.user, finishtype: 'Ok' as const, transfer, seconds }
  return keyed(withParticipants(endedEvent(d, facts, seconds, conv.link, at, conv.callername, timing), conv), conversationKey(d, 'ended', conv))
}

/** `at`: when the call ended; `stamp`: the event's timestamp (the same unless reconciled later). */
export function missedEvent (d: Derivation, at: number, stamp = at): CallEvent {
  const s = d.s
  const where = s.missedAt ?? { dn: s.firstDestination, dnType: 'None' }
  const missedAt = { dn: where.dn, usertype: usertypeOf(where.dnType), dnType: where.dnType }
  const facts = { callerid: s.customerNumber, user: where.dn, finishtype: 'Missed' as const, transfer: false, seconds: (at - s.linkStartedAt) / 1000, missedAt }
  return keyed(endedEvent(d, facts, 0, s.link, stamp, s.customerName), `${d.chid}:missed:${s.link}:${where.dn}`)
}

function endedEvent (d: Derivation, f: Omit<TitleFacts, 'direction' | 'did'> & { user: string }, duration: number, link: number, at: number, callername: string, timing?: Timing): CallEvent {
  const did = eventDid(d)
  const payload: EndedPayload = {
    event: d.s.direction === 'outbound' ? 'outgoing' : 'incoming',
    callerid: f.callerid,
    user: f.user,
    did,
    finishtype: f.finishtype,
    transfer: f.transfer ? 'true' : 'false',
    title: callTitle({ ...f, direction: d.s.direction ?? 'inbound', did }),
    duration,
    ...common(d, link, at, callername)
  }
  return eventOf(withTiming(payload, timing))
}

function common (d: Derivation, link: number, at: number, callername: string): { id: string, chid: string, timestamp: string, callername?: string } {
  // A chain's timestamps never go back: an end stamped when its leg went (before the grace
  // period) must not predate an event already sent meanwhile.
  d.s.lastEventAt = Math.max(d.s.lastEventAt, at)
  const c: { id: string, chid: string, timestamp: string, callername?: string } = {
    id: legacyCallId(d.chid, link),
    chid: d.chid,
    timestamp: new Date(d.s.lastEventAt).toISOString()
  }
  if (callername !== '') c.callername = callername
  return c
}

function eventDid (d: Derivation): string {
  return d.s.direction === 'inbound' ? didName(d) : ''
}

/** The DID name of an inbound call: resolved once the first destination is known, then fixed for the call. */
export function didName (d: Derivation): string {
  const s = d.s
  if (s.did !== null) return s.did
  const name = d.didLookup === undefined
    ? s.partyDid
    : d.didLookup({ trunkDn: s.customerDn, did: s.partyDid, firstDestination: s.firstDestination, fallback: s.partyDid })
  if (s.firstDestination !== '' || s.partyDid !== '') s.did = name
  return name
}

/** The conversation's Call Control participant ids on its ended event (the recordings pipeline matches files by them). */
function withParticipants (e: CallEvent, conv: ConversationState): CallEvent {
  const ids = [...conv.priorLegKeys ?? [], conv.legKey].map((k) => Number(k.slice(k.lastIndexOf('#') + 1))).filter((id) => Number.isSafeInteger(id) && id > 0)
  return { ...e, participants: [...new Set(ids)] }
}

/** Whether the conversation's times are what the gateway saw in place of times it could not learn. */
export function timingOf (conv: ConversationState): Timing | undefined {
  return conv.answerUnsure === true || conv.endUnsure === true ? 'approximate' : undefined
}

function withTiming<P extends { timing?: Timing }> (payload: P, timing: Timing | undefined): P {
  return timing === undefined ? payload : { ...payload, timing }
}
