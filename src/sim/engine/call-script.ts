// The script of one simulated call (simulator.md §3) and its validation into a plan the engine
// plays. Validation is pure and complete: a script either yields a plan that can be played as
// written, or a SimScriptError saying what is wrong, before anything starts.
import type { CallControlDnType } from '../../pbx/callcontrol-types.js'
import type { SimDirectory } from '../sim-types.js'
import {
  findDn, findUser, groupMembers, inboundRule, isExternalNumber, trunkDn, unreachableReason, type DnEntry
} from './dn-lookup.js'

export interface TransferScript {
  kind: 'blind' | 'attended'
  /** Target extension. */
  to: string
  /** ms after the answer (default 1000). */
  afterMs?: number
  /** Whether the target answers (default true). */
  answer?: boolean
}

export interface CallScript {
  from: string
  to: string
  /** Extension that answers, "remote" (outbound answered by the far end), or null: nobody answers. */
  answer?: string | null
  ringMs?: number
  talkMs?: number
  transfer?: TransferScript
  hangup?: 'caller' | 'callee'
  record?: boolean
  recordingSegments?: number
  /** IVR digit the caller presses. */
  menu?: string
  /** Queue the call overflows to when nobody answers in the first queue within ringMs. */
  overflow?: string
  /** Digits the caller presses once a route-point application has answered (DTMF). */
  dtmf?: string
  /**
   * Whether a busy extension is busy for this call, as in 3CX: an extension already in a call,
   * without call waiting, is not rung; the call follows its busy forwarding or ends. Opt-in (default
   * false), because scripts that overlap on one extension are written to be played as written.
   */
  busy?: boolean
  /**
   * The caller waiting in a queue asks to be called back after ringMs (3CX's "callback requested")
   * and hangs up; `answer` (an agent of the queue, or null: nobody) then calls the caller back.
   */
  callback?: boolean
}

export class SimScriptError extends Error {
  override name = 'SimScriptError'
}

/** Why 3CX refuses a call or a routing (its `reason` names, answered 422 by Call Control). */
export type RefusalReason = 'PhoneNotRegistered' | 'PhoneBusy' | 'NoDestinations'

/** A call the PBX refuses the way 3CX does: makecall from an unregistered phone, to a busy one… */
export class SimRefusal extends SimScriptError {
  override name = 'SimRefusal'
  constructor (readonly reason: RefusalReason, message: string) { super(message) }
}

export interface CallerParty {
  dn: string
  /** Queues and IVRs call out only through makecall (campaigns). */
  kind: 'externalline' | 'extension' | 'routepoint' | 'queue' | 'ivr'
  /** Caller number as shown to others: the external number or the DN. */
  number: string
  name: string
}

export interface TransferPlan {
  kind: 'blind' | 'attended'
  to: string
  afterMs: number
  answer: boolean
  /** How long the target rings before answering or before the call returns. */
  ringMs: number
}

/** A validated script: everything the engine needs, nothing left to check. */
export interface CallPlan {
  kind: 'inbound' | 'outbound' | 'internal'
  caller: CallerParty
  /** First destination: the rule's target, the dialled DN, or the external number (outbound). */
  target: string
  did: string
  ruleName: string
  /** Extension (or "remote") that answers, null when nobody does. */
  answer: string | null
  /** Until the answer (when someone answers). */
  ringMs: number
  /** Until the caller gives up (when nobody answers). */
  giveUpMs: number
  talkMs: number
  transfer: TransferPlan | null
  hangup: 'caller' | 'callee'
  record: boolean
  recordingSegments: number
  menu: string | null
  overflow: string | null
  /** Digits the caller presses after a route point answers. */
  dtmf: string | null
  /** Whether busy extensions are busy for this call (busy forwarding) or ring as if free. */
  busy: boolean
  /** The caller requests a queue callback (answer: the agent who calls back). */
  callback: boolean
  /** A call the PBX places for a queue (its callback): the caller's leg shows it as on_behalf_of. */
  onBehalfOf?: { dn: string, type: CallControlDnType }
}

export const SCRIPT_LIMITS = { maxRingMs: 600_000, maxTalkMs: 3_600_000, maxSegments: 10 } as const

const DEFAULT_RING_MS = 3000
/** How long a call waits on a route point for its application when the script gives no ringMs. */
export const ROUTE_POINT_WAIT_MS = 30_000
export const DEFAULT_TALK_MS = 10_000

/** Throws the SimScriptError that says what is wrong. */
export function fail (message: string): never {
  throw new SimScriptError(message)
}

function checkMs (name: string, v: number | undefined, max: number, dflt: number): number {
  if (v === undefined) return dflt
  if (!Number.isFinite(v) || v < 0 || v > max) fail(`${name} must be a number of ms between 0 and ${max}`)
  return Math.round(v)
}

export function callerOf (dir: SimDirectory, from: string): CallerParty {
  if (typeof from !== 'string' || from === '') fail('from is required')
  const entry = findDn(dir, from)
  if (entry === undefined) {
    if (!isExternalNumber(dir, from)) fail(`from "${from}" is neither an extension nor an external number`)
    return { dn: trunkDn(dir), kind: 'externalline', number: from, name: '' }
  }
  if (entry.kind === 'routepoint') return { dn: entry.dn, kind: 'routepoint', number: entry.dn, name: entry.name }
  if (entry.kind !== 'extension') fail(`from "${from}" is a ${entry.kind}, not an extension or an external number`)
  const user = findUser(dir, from)
  if (user !== undefined && !user.Enabled) fail(`extension ${from} is disabled`)
  return { dn: entry.dn, kind: 'extension', number: entry.dn, name: entry.name }
}

/** Where the call ends up ringing: the last DN of the route (after IVR menu and overflow). */
function finalStage (dir: SimDirectory, first: DnEntry, menu: string | null, overflow: string | null): DnEntry | null {
  let stage = first
  if (stage.kind === 'ivr') {
    if (menu === null) return null
    const ivr = dir.receptionists.find((r) => r.Number === stage.dn)
    const fwd = ivr?.Forwards.find((f) => f.Input === menu)
    if (fwd === undefined) fail(`IVR ${stage.dn} has no option ${menu}`)
    const next = findDn(dir, fwd.ForwardDN)
    if (next === undefined) fail(`IVR ${stage.dn} option ${menu} points to unknown DN ${fwd.ForwardDN}`)
    stage = next
  } else if (menu !== null) {
    fail(`menu "${menu}" given but the call does not reach an IVR`)
  }
  if (overflow !== null) {
    if (stage.kind !== 'queue') fail('overflow needs a call that reaches a queue')
    const next = findDn(dir, overflow)
    if (next === undefined || next.kind !== 'queue') fail(`overflow "${overflow}" is not a queue`)
    if (next.dn === stage.dn) fail('overflow must be another queue')
    stage = next
  }
  return stage
}

/** Checks that `answer` can actually answer at the call's final stage; returns why not. */
function answerReason (dir: SimDirectory, stage: DnEntry | null, answer: string): string | null {
  if (stage === null) return `the call never leaves the IVR (no menu digit), so ${answer} cannot answer`
  if (stage.kind === 'extension') {
    if (stage.dn !== answer) return `the call rings extension ${stage.dn}, not ${answer}`
    return unreachableReason(dir, answer)
  }
  if (stage.kind === 'queue' || stage.kind === 'ringgroup') {
    const m = groupMembers(dir, stage.dn).find((x) => x.dn === answer)
    if (m === undefined) return `${answer} is not a member of ${stage.kind === 'queue' ? 'queue' : 'ring group'} ${stage.dn}`
    return m.skip
  }
  if (stage.kind === 'routepoint') return `the call reaches route point ${stage.dn}, which its application answers over Call Control`
  return `the call reaches ${stage.kind} ${stage.dn}, which no extension answers`
}

function transferPlan (dir: SimDirectory, t: TransferScript | undefined, answer: string | null, ringMs: number): TransferPlan | null {
  if (t === undefined) return null
  if (t.kind !== 'blind' && t.kind !== 'attended') fail('transfer.kind must be "blind" or "attended"')
  if (answer === null || answer === 'remote') fail('a transfer needs an extension that answers first')
  if (findUser(dir, t.to) === undefined) fail(`transfer target "${t.to}" is not an extension`)
  if (t.to === answer) fail('transfer target must differ from the extension that answers')
  const targetAnswers = t.answer ?? true
  if (targetAnswers) {
    const why = unreachableReason(dir, t.to)
    if (why !== null) fail(`transfer target cannot answer: ${why}`)
  }
  return { kind: t.kind, to: t.to, afterMs: checkMs('transfer.afterMs', t.afterMs, SCRIPT_LIMITS.maxTalkMs, 1000), answer: targetAnswers, ringMs }
}

/** Validates a script against the current directory. Throws SimScriptError with the reason. */
export function planScript (dir: SimDirectory, script: CallScript): CallPlan {
  if (typeof script !== 'object' || script === null) fail('the script must be a JSON object')
  const caller = callerOf(dir, script.from)
  if (typeof script.to !== 'string' || script.to === '') fail('to is required')
  const ringMs = checkMs('ringMs', script.ringMs, SCRIPT_LIMITS.maxRingMs, DEFAULT_RING_MS)
  const talkMs = checkMs('talkMs', script.talkMs, SCRIPT_LIMITS.maxTalkMs, DEFAULT_TALK_MS)
  const segments = script.recordingSegments ?? 1
  if (!Number.isInteger(segments) || segments < 1 || segments > SCRIPT_LIMITS.maxSegments) {
    fail(`recordingSegments must be an integer from 1 to ${SCRIPT_LIMITS.maxSegments}`)
  }
  const answer = script.answer ?? null
  const menu = script.menu ?? null
  const overflow = script.overflow ?? null
  const dtmf = script.dtmf ?? null
  if (dtmf !== null && (typeof dtmf !== 'string' || !/^[0-9*#]{1,32}$/.test(dtmf))) fail('dtmf must be 1 to 32 of the keys 0-9, * and #')
  const hangup = script.hangup ?? 'caller'
  const busy = script.busy ?? false
  if (typeof busy !== 'boolean') fail('busy must be true or false')
  const callback = script.callback ?? false
  if (typeof callback !== 'boolean') fail('callback must be true or false')
  if (hangup !== 'caller' && hangup !== 'callee') fail('hangup must be "caller" or "callee"')

  let kind: CallPlan['kind']
  let giveUpMs = ringMs
  let target = script.to
  let did = ''
  let ruleName = ''
  if (caller.kind === 'externalline') {
    const rule = inboundRule(dir, script.to)
    if (rule === undefined) fail(`to "${script.to}" is not a DID with an inbound rule (calls from an external number must dial a DID)`)
    kind = 'inbound'
    did = rule.Data
    ruleName = rule.RuleName
    target = rule.OfficeHoursDestination.Number
    if (rule.OfficeHoursDestination.To === 'None') fail(`the inbound rule "${rule.RuleName}" of ${script.to} has no destination (To: None)`)
  } else if (findDn(dir, script.to) === undefined) {
    if (!isExternalNumber(dir, script.to)) fail(`to "${script.to}" is neither a known DN nor an external number`)
    if (findUser(dir, caller.dn)?.Internal === true) fail(`extension ${caller.dn} may only make internal calls`)
    kind = 'outbound'
  } else {
    kind = 'internal'
  }

  if (kind === 'outbound') {
    if (answer !== null && answer !== 'remote') fail('an outbound call is answered by "remote" or by nobody (null)')
    if (menu !== null || overflow !== null) fail('menu and overflow apply to calls that reach an IVR or a queue')
    if (dtmf !== null) fail('dtmf applies to calls that reach a route point (its application reads the digits)')
    if (callback) fail('callback needs a call that waits in a queue (no overflow, no transfer)')
  } else {
    if (callback && caller.kind !== 'externalline') fail('callback needs an inbound call (the agent calls the external number back)')
    const first = findDn(dir, target)
    if (first === undefined) fail(`the route reaches unknown DN ${target}`)
    if (first.kind === 'externalline') fail(`${target} cannot be called`)
    if (first.dn === caller.dn) fail('a DN cannot call itself')
    const stage = finalStage(dir, first, menu, overflow)
    if (first.kind === 'routepoint' && script.ringMs === undefined) giveUpMs = ROUTE_POINT_WAIT_MS
    if (dtmf !== null && stage?.kind !== 'routepoint') fail('dtmf applies to calls that reach a route point (its application reads the digits)')
    if (callback && (stage?.kind !== 'queue' || overflow !== null || script.transfer !== undefined)) fail('callback needs a call that waits in a queue (no overflow, no transfer)')
    if (answer === 'remote') fail('"remote" answers only outbound calls')
    if (answer !== null) {
      const why = answerReason(dir, stage, answer)
      if (why !== null) fail(`${answer} cannot answer: ${why}`)
    }
  }
  return {
    kind,
    caller,
    target,
    did,
    ruleName,
    answer,
    ringMs,
    giveUpMs,
    talkMs,
    transfer: transferPlan(dir, script.transfer, answer, ringMs),
    hangup,
    record: script.record === true,
    recordingSegments: segments,
    menu,
    overflow,
    dtmf,
    busy,
    callback
  }
}
