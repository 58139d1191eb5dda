// The end of a call the gateway did not see, told by the PBX's own record of it (call log rows,
// pbx-call-record.ts): the events the call owes, stamped no earlier than what was already sent.
import type { CallEvent } from '../call-events.js'
import type { PbxCallRecord } from '../pbx-call-record.js'
import { planReconciledEnd, type KnownCall, type ReconciledStep } from '../call-reconciliation.js'
import { conversationEndedEvent, missedEvent, startedEvent, timingOf } from './legacy-payloads.js'
import { emptyTrackerState, type CallTrackerState, type ConversationState, type Derivation } from './tracker-state.js'

/**
 * The events that end the call from the PBX's record: the call-started events the gateway missed,
 * then the call-ended events with the PBX's users and talk times. Null without a usable record.
 */
export function reconciledEnd (d: Derivation, record: PbxCallRecord | null, now: number): CallEvent[] | null {
  const plan = record === null ? null : planReconciledEnd(knownCall(d.s), record)
  if (plan === null) return null
  const out: CallEvent[] = []
  let floor = d.s.lastEventAt
  const clamp = (t: number): number => {
    floor = Math.min(Math.max(t, floor), Math.max(now, floor))
    return floor
  }
  for (const step of plan) out.push(reconciledEvent(d, step, clamp(step.at)))
  d.s.conversation = null
  return out
}

/**
 * The state of a call the gateway never saw (unseen-calls.ts), described by the PBX's record of it;
 * ending it with the record gives the events the call owes. Null when the record lacks its origin.
 */
export function recoveredState (record: PbxCallRecord): CallTrackerState | null {
  const o = record.origin
  if (o === undefined) return null
  return {
    ...emptyTrackerState(o.startedAt),
    direction: o.direction,
    customerDn: o.customerDn,
    customerNumber: o.customerNumber,
    customerName: o.customerName,
    firstDestination: o.firstDestination,
    missedAt: o.direction === 'outbound' ? { dn: o.fromDn, dnType: 'Wextension' } : { dn: o.firstDestination, dnType: o.firstDestinationType },
    emptySince: record.endedAt,
    uncertainEnd: true
  }
}

function knownCall (s: CallTrackerState): KnownCall {
  let lastAnsweredLink = 0
  for (const c of s.talks) lastAnsweredLink = Math.max(lastAnsweredLink, c.link)
  return {
    talks: s.talks.map((c) => ({ user: c.user, link: c.link, ended: c.closed })),
    maxLink: s.maxLink,
    lastAnsweredLink,
    vanishedLinks: Object.fromEntries(s.vanished)
  }
}

function reconciledEvent (d: Derivation, step: ReconciledStep, at: number): CallEvent {
  const s = d.s
  if (step.kind === 'missed') {
    if (step.dn !== null) s.missedAt = { dn: step.dn, dnType: step.dnType }
    return missedEvent(d, s.emptySince ?? at, at)
  }
  if (step.kind === 'started') {
    s.maxLink = Math.max(s.maxLink, step.link)
    s.link = step.link
    s.linkAnswered = true
    s.answeredAt ??= at
    const conv: ConversationState = {
      user: step.user, closed: false, legKey: '', link: step.link, answeredAt: at, trtype: step.trtype,
      callerid: s.customerNumber, callername: s.customerName, endedAt: null
    }
    s.talks.push(conv)
    return startedEvent(d, conv, at)
  }
  let conv = s.talks.find((c) => !c.closed && c.user === step.user && c.link === step.link) ?? s.talks.find((c) => !c.closed && c.user === step.user)
  if (conv === undefined) {
    // Taken back after a blind transfer nobody answered: the conversation ended at the transfer goes on.
    const before = [...s.talks].reverse().find((c) => c.user === step.user && c.link === step.link)
    if (before === undefined) throw new Error(`reconciliation ended a conversation the call never had (${step.user})`)
    conv = { ...before, closed: false, endedAt: null }
    s.talks.push(conv)
  }
  conv.endedAt = step.seconds === null ? (conv.endedAt ?? s.emptySince ?? at) : conv.answeredAt + step.seconds * 1000
  conv.closed = true
  const duration = step.seconds !== null ? Math.round(step.seconds) : Math.max(0, Math.round((conv.endedAt - conv.answeredAt) / 1000))
  // The PBX's talk time is exact whatever the gateway saw; its own times are as sure as they were.
  const timing = step.seconds !== null ? undefined : timingOf(conv)
  return conversationEndedEvent(d, conv, step.transfer, duration, at, timing)
}
