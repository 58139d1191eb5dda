// Decides how a call whose end the gateway did not see is reported (3cx-v20.md §7: "a lost Remove
// must be caught by snapshot reconciliation"). Its legs vanished from a snapshot after a WebSocket
// gap, a PBX outage or a gateway restart, so the model cannot tell whether an agent answered in the
// meantime. The PBX's own record of the call (pbx-call-record.ts) can: this pure function compares
// what the gateway already announced with that record and plans the events still owed, in order.
import type { TransferType } from './call-events.js'
import type { CallControlDnType } from '../pbx/callcontrol-types.js'
import type { PbxCallRecord, PbxConversation } from './pbx-call-record.js'

/** A conversation the gateway announced (a call-started event went out). */
export interface KnownTalk {
  user: string
  link: number
  /** Its call-ended event went out too. */
  ended: boolean
}

/** What the live model knew about the call when its legs vanished. */
export interface KnownCall {
  talks: readonly KnownTalk[]
  /** Highest link number used so far. */
  maxLink: number
  /** Link of the latest announced conversation, 0 when nobody answered. */
  lastAnsweredLink: number
  /** DN → link it was ringing in, for the legs that vanished in the gap (transfer targets ring in the next link). */
  vanishedLinks: Readonly<Record<string, number>>
}

export type ReconciledStep =
  | { kind: 'started', user: string, link: number, trtype: TransferType, at: number }
  /** `seconds` null: the PBX has no talk time for it; the model's own times give the duration. */
  | { kind: 'ended', user: string, link: number, transfer: boolean, seconds: number | null, at: number }
  /** `dn` null: the model's own idea of where the call waited. */
  | { kind: 'missed', dn: string | null, dnType: CallControlDnType, at: number }

/**
 * The events still owed for a call, or null when the record cannot settle it (the PBX says nobody
 * answered although the gateway saw an answer: the model's own end is used then).
 *
 * - Nobody answered (record and model agree): one Missed call-ended event, at the PBX's queue if it names one.
 * - Conversations in the record are matched in order with the announced ones by extension; an
 *   announced conversation gets its missing call-ended event (the PBX's talk time); one the gateway
 *   never saw gets a call-started event (new link, or the link its transfer target rang in) and a
 *   call-ended event. Every conversation but the last ends with transfer=true.
 * - Announced conversations the record does not show, still open, end first with transfer=true.
 */
export function planReconciledEnd (known: KnownCall, record: PbxCallRecord): ReconciledStep[] | null {
  const convs = record.conversations.filter((c) => c.returned !== true)
  if (convs.length === 0) {
    if (known.talks.length > 0) return null
    const waited = record.waitedIn
    return [{ kind: 'missed', dn: waited?.dn ?? null, dnType: waited?.dnType ?? 'None', at: record.endedAt }]
  }
  // A transferor that took the call back continues its conversation: the last part gives its end.
  const returns = new Map<number, PbxConversation>()
  let lead = -1
  for (const c of record.conversations) {
    if (c.returned === true && lead >= 0) returns.set(lead, c)
    else lead++
  }
  const used = new Set<number>()
  const matched: Array<number | null> = convs.map((c) => {
    const open = known.talks.findIndex((t, j) => !used.has(j) && !t.ended && t.user === c.user)
    const any = open >= 0 ? open : known.talks.findIndex((t, j) => !used.has(j) && t.user === c.user)
    if (any < 0) return null
    used.add(any)
    return any
  })
  const steps: ReconciledStep[] = []
  const firstAt = convs[0].answeredAt
  known.talks.forEach((t, j) => {
    // The same conversation announced twice (ended at a transfer, then taken back): one of them is matched.
    const twin = known.talks.some((o, k) => k !== j && used.has(k) && o.user === t.user && o.link === t.link)
    if (!used.has(j) && !t.ended && !twin) steps.push({ kind: 'ended', user: t.user, link: t.link, transfer: true, seconds: null, at: firstAt })
  })
  let maxLink = known.maxLink
  let lastLink = known.lastAnsweredLink
  convs.forEach((c, i) => {
    const transfer = i < convs.length - 1
    const back = returns.get(i)
    const k = matched[i]
    let link: number
    if (k !== null) {
      const t = known.talks[k]
      link = t.link
      lastLink = Math.max(lastLink, t.link)
      if (back === undefined) {
        if (!t.ended) steps.push({ kind: 'ended', user: t.user, link: t.link, transfer, seconds: c.talkSeconds, at: c.endedAt })
        return
      }
      // Its transfer: announced already when the conversation was seen to end (a known ended twin, or this one).
      const transferSeen = t.ended || known.talks.some((o) => o !== t && o.user === t.user && o.link === t.link && o.ended)
      if (!transferSeen) steps.push({ kind: 'ended', user: t.user, link, transfer: true, seconds: c.talkSeconds, at: c.endedAt })
    } else {
      const rang = known.vanishedLinks[c.user]
      link = rang !== undefined && rang > 0 && rang > lastLink ? rang : ++maxLink
      maxLink = Math.max(maxLink, link)
      lastLink = link
      steps.push({ kind: 'started', user: c.user, link, trtype: c.trtype, at: c.answeredAt })
      steps.push({ kind: 'ended', user: c.user, link, transfer: back !== undefined || transfer, seconds: c.talkSeconds, at: c.endedAt })
      if (back === undefined) return
    }
    steps.push({ kind: 'ended', user: c.user, link, transfer, seconds: back.talkSeconds, at: back.endedAt })
  })
  return steps
}
