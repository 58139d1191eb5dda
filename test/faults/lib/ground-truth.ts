// The fault suite's checker (pure): from the simulator's ground truth (the calls it really played,
// SimCallRecord) it derives the call-ended and call-started events the gateway owes per call, and
// compares them with what a webhook receiver got.
//
// What it can derive, and therefore checks strictly:
// - one call-ended event per extension that had a conversation (inbound and internal calls), with
//   finishtype Ok and transfer=false for the extension talking at the end, transfer=true for the
//   others; one Missed call-ended event for an unanswered call (user = the queue when it waited in
//   one); one `outgoing` event for an outbound call (Ok or Missed);
// - one call-started event per extension that answered (trtype Blind / Accomp for transfer targets),
//   with the customer's number as callerid;
// - the `duration` of call-ended events, within DURATION_SLACK_S of the simulator's talk time, where
//   one conversation gives it (no transfer nobody answered, and, for calls a blind window touched, no
//   transfer at all: a transfer inside a gap is only seen as its result);
// - the chain id's time prefix: when the call reached the PBX (UTC in the rig), within a second or two,
//   also for calls first seen after a gap (the gateway takes it from the PBX, not from when it looked);
// - per call chain, in the order of first arrival: timestamps never go backwards, nothing but
//   recordings after the final call-ended event, and per user ringing → started → ended.
// What it cannot derive, and therefore only counts: ringing events (a ring of 100 ms can be gone
// before the gateway fetches the participant: 3CX answers 404 then, and no event is right), and
// what happened while the gateway could not see the PBX (`blind` windows): a gateway killed with
// SIGKILL loses its in-memory call state (`amnesia`), so a call that ended between the kill and
// the restart's snapshot owes nothing; a WebSocket gap (`gap`) is covered by the snapshot taken on
// reconnect, so only calls that started and ended inside it are invisible. Calls touched by a
// blind window are checked for their final call-ended event only. A catch-up (`lag`: the gateway's
// reads fell behind and one snapshot replaced them) hides less: every event is still owed, but a
// transfer inside it is seen only as its result, so its type (trtype) and the durations of that
// call's conversations are not checked.
import type { SimCallRecord } from '../../../src/sim/sim-types.js'

export interface ReceivedHook {
  /** The `webhook-id` header: the same for every retry of one event. */
  webhookId: string
  /** When the receiver got it (ms). */
  at: number
  body: Record<string, unknown>
}

export interface BlindWindow {
  kind: 'amnesia' | 'gap' | 'lag'
  from: number
  to: number
}

export interface CheckOptions {
  blind?: readonly BlindWindow[]
  /** CALL_END_GRACE_MS of the gateway: an ended event is emitted that long after the last leg went. */
  graceMs: number
  /** Slack for clock steps and fetch latency around blind windows (default 1000 ms). */
  marginMs?: number
  /**
   * Call Control events carry no data: the gateway fetches each participant, and a leg that is gone
   * before the fetch answers (404) was never visible. With added PBX latency, a call with a ring or
   * conversation shorter than this owes only some final call-ended event (default 0: owes everything).
   */
  minObservableMs?: number
  /** Stretches of added PBX latency: minObservableMs applies to the calls that overlap one (default: to every call). */
  slow?: ReadonlyArray<{ from: number, to: number }>
}

export interface Finding {
  chid: string
  callid: number
  what: string
  /** When the call started in the ground truth (ms), to tell which fault it ran into. */
  at?: number
  /** What the receiver got for the call, in order (for the soak's findings file). */
  got?: string
}

export interface CheckReport {
  /** Calls in the ground truth that had ended. */
  calls: number
  /** Calls checked strictly (no blind window touched them). */
  fullyChecked: number
  /** Calls whose end the gateway could not see (ended inside an amnesia window or entirely inside a gap): they owe their final call-ended event, from the call log. */
  unobservable: number
  /** Calls still in progress in the ground truth (not checked). */
  running: number
  /** Calls with a leg shorter than minObservableMs (checked for a final call-ended event only). */
  tooShort: number
  /** Requests received (2xx answered). */
  received: number
  /** Distinct webhook-ids. */
  unique: number
  /** Requests beyond the first of one webhook-id (at-least-once redeliveries). */
  duplicates: number
  /** The same event (type, user, link, finishtype) sent again under a new webhook-id (a restarted gateway re-deriving a call in progress). */
  reDerived: number
  ringing: { expected: number, received: number }
  expectedEnded: number
  expectedStarted: number
  lost: Finding[]
  outOfOrder: Finding[]
  wrong: Finding[]
}

interface Expected {
  kind: 'ended' | 'started'
  event: string
  /** Undefined: any user. */
  user?: string
  finishtype?: 'Ok' | 'Missed'
  transfer?: 'true' | 'false'
  trtype?: string
  callerid?: string
  /** Talk seconds a call-ended event must show (undefined: not derivable, see the header). */
  duration?: number
  /** Only the final ended event is owed by calls a blind window touched. */
  final: boolean
}

const ENDED = new Set(['incoming', 'outgoing'])
const STARTED = new Set(['hangupincoming', 'hangupoutgoing', 'pickupincoming', 'pickupoutgoing'])

/** Call id (3CX's callid) of a chain id `YYMMDDhhmmss_N`. */
export function callidOfChain (chid: string): number {
  const m = /_(\d+)$/.exec(chid)
  return m === null ? NaN : Number(m[1])
}

/** How far a call-ended event's duration may be from the simulator's talk time (fetch latency, rounding). */
export const DURATION_SLACK_S = 2
/** How far the chain id's time prefix may be from the call's start (whole seconds, first fetch). */
export const PREFIX_SLACK_MS = 2000

/**
 * Seconds `user` talked to the customer: its one answered segment facing the caller (a consultation
 * segment is not talk with the customer). Undefined when there are several (the call came back).
 */
function talkSeconds (r: SimCallRecord, user: string): number | undefined {
  const talks = r.segments.filter((s) => s.answered && s.action !== 'consult' && (r.kind === 'outbound' ? s.dst.kind === 'externalline' : s.dst.dn === user))
  return talks.length === 1 ? talks[0].talkMs / 1000 : undefined
}

/** The call-ended and call-started events one finished call owes (see the header for the rules). */
export function expectedEvents (r: SimCallRecord): Expected[] {
  const out: Expected[] = []
  if (r.kind === 'outbound') {
    const answered = r.answeredAt !== null
    out.push({ kind: 'ended', event: 'outgoing', user: r.from, finishtype: answered ? 'Ok' : 'Missed', transfer: 'false', duration: answered ? talkSeconds(r, r.from) : 0, final: true })
    if (answered) out.push({ kind: 'started', event: 'hangupoutgoing', user: r.from, trtype: 'NotDef', callerid: r.to, final: false })
    return out
  }
  const talkers: string[] = []
  for (const s of r.segments) if (s.answered && s.dst.kind === 'extension' && !talkers.includes(s.dst.dn)) talkers.push(s.dst.dn)
  if (talkers.length === 0) {
    out.push({ kind: 'ended', event: 'incoming', ...(r.queue !== null ? { user: r.queue.dn } : {}), finishtype: 'Missed', transfer: 'false', duration: 0, final: true })
    return out
  }
  // A blind transfer nobody took: the transferor's leg ended as transferred, then the call came back to it.
  for (const t of r.transfers) {
    if (t.kind === 'blind' && !t.answered && talkers.includes(t.from)) out.push({ kind: 'ended', event: 'incoming', user: t.from, finishtype: 'Ok', transfer: 'true', final: false })
  }
  const cameBack = r.transfers.some((t) => !t.answered)
  for (const ext of talkers) {
    const last = ext === r.answeredBy
    const duration = cameBack ? undefined : talkSeconds(r, ext)
    out.push({ kind: 'ended', event: 'incoming', user: ext, finishtype: 'Ok', transfer: last ? 'false' : 'true', ...(duration !== undefined ? { duration } : {}), final: last })
    const via = r.transfers.find((t) => t.to === ext && t.answered)
    out.push({ kind: 'started', event: 'hangupincoming', user: ext, trtype: via === undefined ? 'NotDef' : via.kind === 'blind' ? 'Blind' : 'Accomp', callerid: r.from, final: false })
  }
  return out
}

/** Ringing events a fully observed call should show (counted, not required: see the header). */
export function expectedRinging (r: SimCallRecord): number {
  if (r.kind === 'outbound') return 0
  return r.segments.filter((s) => s.dst.kind === 'extension' || s.dst.kind === 'queue').length
}

function str (v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : ''
}

function linkOf (id: string): number {
  const m = /-(\d+)$/.exec(id)
  return m === null ? -1 : Number(m[1])
}

function semanticKey (b: Record<string, unknown>): string {
  // The link, not the whole id: a restarted gateway dates a call it finds in progress anew.
  return [str(b.event), str(b.user), linkOf(str(b.id)), str(b.finishtype), str(b.transfer)].join('|')
}

function matches (e: Expected, b: Record<string, unknown>): boolean {
  return str(b.event) === e.event && (e.user === undefined || str(b.user) === e.user)
}

/** What differs between the expected event and the one received (empty: it is right). */
function differences (e: Expected, b: Record<string, unknown>): string[] {
  const bad: string[] = []
  for (const k of ['finishtype', 'transfer', 'trtype', 'callerid'] as const) {
    if (e[k] !== undefined && str(b[k]) !== e[k]) bad.push(`${k}=${str(b[k])} (expected ${e[k]})`)
  }
  if (e.duration !== undefined && !(Math.abs(Number(b.duration) - e.duration) <= DURATION_SLACK_S)) bad.push(`duration=${str(b.duration)} (talked ${e.duration.toFixed(1)} s)`)
  return bad
}

/** `YYMMDDhhmmss` (UTC) of a chain id → ms, NaN when it has another shape. */
export function prefixTimeOf (chid: string): number {
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)_\d+$/.exec(chid)
  return m === null ? NaN : Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
}

/** The shortest ring or conversation of the call (ms). */
function shortestLegMs (r: SimCallRecord): number {
  let min = Infinity
  for (const s of r.segments) min = Math.min(min, s.endedAt.getTime() - s.startedAt.getTime(), s.answered ? s.talkMs : Infinity)
  const total = (r.endedAt ?? r.startedAt).getTime() - r.startedAt.getTime()
  return Math.min(min, total)
}

function describeCall (r: SimCallRecord): string {
  const ms = (r.endedAt ?? r.startedAt).getTime() - r.startedAt.getTime()
  const path = r.segments.map((s) => `${s.dst.dn}:${s.action}${s.answered ? `(${s.talkMs}ms)` : ''}`).join(' ')
  return `[${r.kind} ${r.from}→${r.to}, ${ms} ms: ${path}${r.transfers.length > 0 ? `; ${r.transfers.map((t) => `${t.kind} ${t.from}→${t.to}${t.answered ? '' : ' unanswered'}`).join(', ')}` : ''}]`
}

/** The events received for one call, briefly: `ringing 101 -0`, `incoming 102 Ok transfer=false -1`. */
function gotOf (events: ReadonlyArray<Record<string, unknown>>): string {
  return events.map((b) => [str(b.event), str(b.user), str(b.trtype), str(b.finishtype), b.transfer === undefined ? '' : `transfer=${str(b.transfer)}`, `-${linkOf(str(b.id))}`, str(b.timestamp).slice(11, 23)].filter(Boolean).join(' ')).join(' | ')
}

/** Checks one chain's events, in first-arrival order, against the ordering rules. */
export function orderProblems (events: ReadonlyArray<Record<string, unknown>>): string[] {
  const problems: string[] = []
  let lastTs = -Infinity
  let finalSeen = false
  const stage = new Map<string, number>() // user|link → 0 ringing, 1 started, 2 ended
  const endedIds = new Set<string>()
  for (const b of events) {
    const event = str(b.event)
    // A recording is stamped when its file was ready, separate from the call's own timeline
    // (webhooks.md: "separate from, and later than, the call-ended event" of its leg).
    if (event === 'recording') {
      if (!endedIds.has(str(b.id))) problems.push(`recording ${str(b.id)} arrived before its leg's call-ended event`)
      continue
    }
    const ts = Date.parse(str(b.timestamp))
    if (!Number.isNaN(ts)) {
      if (ts < lastTs) problems.push(`${event} ${str(b.user)} (${str(b.timestamp)}) arrived after a later event`)
      lastTs = Math.max(lastTs, ts)
    }
    if (ENDED.has(event)) endedIds.add(str(b.id))
    if (finalSeen) problems.push(`${event} ${str(b.user)} ${str(b.id)} arrived after the call's final call-ended event`)
    const rank = event === 'ringing' ? 0 : STARTED.has(event) ? 1 : ENDED.has(event) ? 2 : -1
    const key = `${str(b.user)}|${linkOf(str(b.id))}`
    const before = stage.get(key)
    if (rank >= 0 && before !== undefined && before > rank) problems.push(`${event} ${str(b.user)} ${str(b.id)} arrived after a later stage of the same leg`)
    if (rank >= 0) stage.set(key, Math.max(before ?? rank, rank))
    if (ENDED.has(event) && (str(b.transfer) === 'false' || str(b.finishtype) === 'Missed')) finalSeen = true
  }
  return problems
}

function touches (r: SimCallRecord, windows: readonly BlindWindow[], graceMs: number, marginMs: number): 'none' | 'partly' | 'end-unseen' {
  const start = r.startedAt.getTime()
  const end = (r.endedAt ?? r.startedAt).getTime()
  let result: 'none' | 'partly' | 'end-unseen' = 'none'
  for (const w of windows) {
    if (w.kind === 'lag') continue
    const from = w.from - marginMs
    const to = w.to + marginMs
    if (w.kind === 'amnesia') {
      // The ended event is emitted graceMs after the end: an end within graceMs before the kill was not yet committed.
      if (end + graceMs >= from && end <= to) return 'end-unseen'
      if (start <= to && end + graceMs >= from) result = 'partly'
    } else {
      if (start >= from && end <= to) return 'end-unseen'
      if (start <= to && end >= from) result = 'partly'
    }
  }
  return result
}

/** Whether a catch-up (`lag` window) overlaps the call. */
function lagged (r: SimCallRecord, windows: readonly BlindWindow[], marginMs: number): boolean {
  const start = r.startedAt.getTime()
  const end = (r.endedAt ?? r.startedAt).getTime()
  return windows.some((w) => w.kind === 'lag' && start <= w.to + marginMs && end >= w.from - marginMs)
}

/** Compares what the receiver got with what the simulator played. */
export function checkDeliveries (records: readonly SimCallRecord[], received: readonly ReceivedHook[], opts: CheckOptions): CheckReport {
  const blind = opts.blind ?? []
  const marginMs = opts.marginMs ?? 1000
  const report: CheckReport = {
    calls: 0, fullyChecked: 0, unobservable: 0, running: 0, tooShort: 0,
    received: received.length, unique: 0, duplicates: 0, reDerived: 0,
    ringing: { expected: 0, received: 0 }, expectedEnded: 0, expectedStarted: 0,
    lost: [], outOfOrder: [], wrong: []
  }

  // At-least-once: keep the first arrival of each webhook-id.
  const firstById = new Map<string, ReceivedHook>()
  for (const h of [...received].sort((a, b) => a.at - b.at)) {
    if (firstById.has(h.webhookId)) report.duplicates++
    else firstById.set(h.webhookId, h)
  }
  report.unique = firstById.size

  const byCall = new Map<number, Array<Record<string, unknown>>>()
  for (const h of firstById.values()) {
    const callid = callidOfChain(str(h.body.chid))
    const list = byCall.get(callid) ?? []
    list.push(h.body)
    byCall.set(callid, list)
  }

  const known = new Map(records.map((r) => [r.callid, r]))
  for (const [callid, events] of byCall) {
    if (!known.has(callid)) report.wrong.push({ chid: str(events[0]?.chid), callid, what: `${events.length} event(s) for a call the simulator never played` })
    // Order is promised per chain id. A gateway restarted during a call dates it anew (a new chid): its events start a new chain.
    const byChid = new Map<string, Array<Record<string, unknown>>>()
    for (const b of events) byChid.set(str(b.chid), [...(byChid.get(str(b.chid)) ?? []), b])
    for (const [chid, list] of byChid) for (const p of orderProblems(list)) report.outOfOrder.push({ chid, callid, what: p, at: known.get(callid)?.startedAt.getTime(), got: gotOf(list) })
  }

  for (const r of records) {
    if (r.status !== 'ended') { report.running++; continue }
    report.calls++
    const events = byCall.get(r.callid) ?? []
    const chid = str(events[0]?.chid) || r.chain
    const seen = touches(r, blind, opts.graceMs, marginMs)
    // A call whose end the gateway could not see still owes its final call-ended event: a call it
    // knew is ended from the PBX's record, a call it never saw is found in the call log (its callid
    // is a gap in the counter) and announced from it.
    if (seen === 'end-unseen') report.unobservable++
    const slowed = opts.slow === undefined || opts.slow.some((w) => r.startedAt.getTime() <= w.to && (r.endedAt ?? r.startedAt).getTime() >= w.from)
    // A leg shorter than a few slowed fetches may be invisible: such a call owes only its final
    // call-ended event (from what the gateway saw, or from the call log when it saw nothing).
    const short = seen === 'none' && slowed && shortestLegMs(r) < (opts.minObservableMs ?? 0)
    if (short) report.tooShort++
    const finalOnly = seen !== 'none' || short
    if (!finalOnly) {
      report.fullyChecked++
      report.ringing.expected += expectedRinging(r)
      report.ringing.received += events.filter((b) => str(b.event) === 'ringing').length
    }
    const expected = expectedEvents(r).filter((e) => !finalOnly || e.final)
    const used = new Set<Record<string, unknown>>()
    for (const e of expected) {
      if (e.kind === 'ended') report.expectedEnded++
      else report.expectedStarted++
      const free = events.filter((b) => !used.has(b) && matches(e, b))
      const got = free.find((b) => differences(e, b).length === 0) ?? free[0]
      if (got === undefined) {
        report.lost.push({ chid, callid: r.callid, what: `no ${e.event}${e.user !== undefined ? ` user=${e.user}` : ''}${e.finishtype !== undefined ? ` finishtype=${e.finishtype}` : ''} ${describeCall(r)}`, at: r.startedAt.getTime(), got: gotOf(events) })
        continue
      }
      used.add(got)
      // A blind window hides transfers: their durations are only checked where no transfer happened.
      const transferHidden = r.transfers.length > 0 && (finalOnly || lagged(r, blind, marginMs))
      const bad = differences(transferHidden ? { ...e, duration: undefined, trtype: undefined } : e, got)
      if (bad.length > 0) report.wrong.push({ chid, callid: r.callid, what: `${e.event} user=${str(got.user)}: ${bad.join(', ')} ${describeCall(r)}`, at: r.startedAt.getTime(), got: gotOf(events) })
    }
    // The chain id dates the call from when it reached the PBX, however late the gateway first saw it.
    for (const c of new Set(events.map((b) => str(b.chid)))) {
      const late = prefixTimeOf(c) - r.startedAt.getTime()
      if (!(late > -1000 - PREFIX_SLACK_MS && late < PREFIX_SLACK_MS)) report.wrong.push({ chid: c, callid: r.callid, what: `chid ${c} dates the call ${(late / 1000).toFixed(1)} s from its start (${r.startedAt.toISOString()}) ${describeCall(r)}`, at: r.startedAt.getTime(), got: gotOf(events) })
    }
    // Anything else that is not ringing or recording: the same event re-derived, or a wrong one.
    const usedKeys = new Set([...used].map(semanticKey))
    for (const b of events) {
      const event = str(b.event)
      if (used.has(b) || event === 'ringing' || event === 'recording') continue
      if (usedKeys.has(semanticKey(b))) { report.reDerived++; continue }
      if (finalOnly && (ENDED.has(event) || STARTED.has(event)) && expectedEvents(r).some((e) => matches(e, b))) continue
      report.wrong.push({ chid, callid: r.callid, what: `unexpected ${event} user=${str(b.user)} id=${str(b.id)}${ENDED.has(event) ? ` finishtype=${str(b.finishtype)} transfer=${str(b.transfer)}` : ''} ${describeCall(r)}`, at: r.startedAt.getTime(), got: gotOf(events) })
    }
  }
  return report
}

/** One line per finding, at most `limit`, for a test message. */
export function describeFindings (findings: readonly Finding[], limit = 10): string {
  // What arrived for the call, so a failure can be diagnosed from the test output alone.
  const lines = findings.slice(0, limit).map((f) => `${f.chid}: ${f.what}${f.got === undefined ? '' : `\n  got: ${f.got === '' ? '(nothing)' : f.got}`}`)
  if (findings.length > limit) lines.push(`… and ${findings.length - limit} more`)
  return lines.join('\n')
}
