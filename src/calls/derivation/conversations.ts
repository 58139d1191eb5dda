// Conversations of one call with the customer: an answer opens one (call-started), a transfer or
// the end of the call closes it (call-ended), a blind transfer nobody answers gives it back to the
// transferor under the same link (webhooks.md §3, 3cx-v20.md §7).
import type { CallEvent, TransferType } from '../call-events.js'
import { talksToCustomer, unseenConsultation } from './leg-classification.js'
import { conversationEndedEvent, callerIdOf, startedEvent, timingOf } from './legacy-payloads.js'
import {
  currentConversation, keyOf, legOf, setCurrentConversation, transferredConversation,
  type ConversationState, type Derivation, type LegState
} from './tracker-state.js'

/** A ringing leg reached through a blind transfer: the transferor's conversation ends, a new link starts. */
export function startBlindTransfer (d: Derivation, leg: LegState, at: number, out: CallEvent[]): void {
  const s = d.s
  const conv = currentConversation(s)
  if (conv !== null && (conv.user === leg.referredBy || conv.endedAt !== null)) {
    conv.endedAt ??= at
    out.push(endConversation(d, conv, true))
    s.transferFrom = { conv: s.talks.indexOf(conv), targetKey: keyOf(leg) }
  }
  s.link = ++s.maxLink
  leg.link = s.link
  s.linkAnswered = false
  s.linkStartedAt = at
  s.missedAt = { dn: leg.p.dn, dnType: leg.dnType }
}

/** `unsure`: answered during a gap, the PBX did not say when (answeredAt is when the gateway saw it). */
export function onConnected (d: Derivation, leg: LegState, at: number, out: CallEvent[], answeredAt = at, unsure = false): void {
  const s = d.s
  if (leg.answered || !talksToCustomer(s, leg)) return // queue/IVR "answers", consultations
  const key = keyOf(leg)
  const back = transferredConversation(s)
  if (back !== null && s.transferFrom !== null && back.user === leg.p.dn && legOf(s, s.transferFrom.targetKey)?.answered !== true) {
    // The blind-transfer target did not answer: the call returned to the transferor, same link.
    const conv: ConversationState = { ...back, closed: false, legKey: key, priorLegKeys: [...back.priorLegKeys ?? [], back.legKey], endedAt: null }
    s.talks.push(conv)
    setCurrentConversation(s, conv)
    s.link = conv.link
    s.linkAnswered = true
    s.transferFrom = null
    leg.answered = true
    return
  }
  const previous = currentConversation(s)
  if (previous !== null && previous.endedAt !== null && previous.user === leg.p.dn && leg.referredBy === '' && !leg.consultTarget) {
    // The extension's leg vanished in a gap and it talks again on a new leg (a blind transfer
    // nobody took, unseen): the same conversation goes on, nothing is announced again. Whether it
    // was transferred meanwhile is the PBX's record's to tell at the call's end (its target rang unread).
    s.uncertainAnswer = true
    previous.priorLegKeys = [...previous.priorLegKeys ?? [], previous.legKey]
    previous.legKey = key
    previous.endedAt = null
    delete previous.endUnsure
    leg.answered = true
    return
  }
  const trtype: TransferType = leg.referredBy !== '' ? 'Blind' : leg.consultTarget || unseenConsultation(s, leg) ? 'Accomp' : 'NotDef'
  if (previous !== null && previous.legKey !== key) {
    previous.endedAt ??= at
    // Its leg went in the gap that this answer fell into: it ended by the answer at the latest.
    if (previous.endUnsure === true) previous.endedAt = Math.max(previous.answeredAt, Math.min(previous.endedAt, answeredAt))
    out.push(endConversation(d, previous, true))
  }
  // A transfer target rang in the next link already; a first answer opens link 1.
  s.link = leg.link > 0 && (leg.link > s.link || !s.linkAnswered) ? leg.link : ++s.maxLink
  s.maxLink = Math.max(s.maxLink, s.link)
  s.linkAnswered = true
  s.transferFrom = null
  leg.answered = true
  s.answeredAt ??= answeredAt
  const p = leg.p
  const conv: ConversationState = {
    user: p.dn,
    closed: false,
    legKey: key,
    link: s.link,
    answeredAt,
    trtype,
    callerid: callerIdOf(p),
    callername: p.party_caller_name,
    endedAt: null,
    ...(unsure ? { answerUnsure: true } : {})
  }
  s.talks.push(conv)
  setCurrentConversation(s, conv)
  // Stamped when it was answered: the PBX's time for an answer the gateway did not see.
  out.push(startedEvent(d, conv, answeredAt, timingOf(conv)))
}

/** Closes the conversation (no longer the current one) and gives its call-ended event. */
export function endConversation (d: Derivation, conv: ConversationState, transfer: boolean): CallEvent {
  if (currentConversation(d.s) === conv) setCurrentConversation(d.s, null)
  conv.closed = true
  const endedAt = conv.endedAt ?? conv.answeredAt
  const duration = Math.max(0, Math.round((endedAt - conv.answeredAt) / 1000))
  return conversationEndedEvent(d, conv, transfer, duration, endedAt, timingOf(conv))
}
