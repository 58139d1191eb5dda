// A call in progress: its legs, timers and the mutable answer rules it plays by, plus what the
// engine's modules (router, call flow, application calls) share to act on it.
import type { CallParticipant } from '../../pbx/callcontrol-types.js'
import type { SimCallRecord, SimDirectory } from '../sim-types.js'
import type { CallPlan } from './call-script.js'
import type { LegBook } from './leg-book.js'
import type { Party } from './party.js'
import type { SimTiming } from './sim-timing.js'

export type LegRole = 'caller' | 'route' | 'target' | 'consult'

export interface Leg {
  p: CallParticipant
  self: Party
  /** The party this leg faces (its party_* fields). */
  facing: Party
  role: LegRole
  inStore: boolean
  segStart: number
  connectedAt: number | null
  recordable: boolean
  /** Until when the prompt an application streams into this leg plays (ms since epoch, 0: none). */
  promptEndsAt: number
  /** attach_participant_data: what the application attached to this leg. */
  attachedData: Record<string, unknown>
}

export interface Call {
  callid: number
  plan: CallPlan
  record: SimCallRecord
  legs: Map<number, Leg>
  timers: Set<NodeJS.Timeout>
  ended: boolean
  legCounter: number
  caller: Leg
  talker: Leg | null
  /** Mutable copies of the plan's answer rules (divert and transferto change them). */
  answer: string | null
  ringMs: number
  giveUpMs: number
  giveUpScheduled: boolean
  transferDone: boolean
  overflowDone: boolean
  /** The call already followed a busy forwarding (once: a busy destination after it ends the call). */
  busyForwarded: boolean
  queueEnteredAt: number
  /**
   * A route-point leg that routed its call on (routeto/transferto once connected): it stays in the
   * call until the destination answers (or the application drops it), as 3CX's route point does.
   */
  handingOver: Leg | null
}

/** What the engine's modules act on: the directory (read afresh), the legs, and the call list. */
export interface EngineCore {
  readonly dir: SimDirectory
  readonly legs: LegBook
  /** The simulator's own durations (makecall answers, recording delays…). */
  readonly timing: SimTiming
  /** Bookkeeping once a call has ended (its record is final). */
  ended (call: Call): void
  /**
   * A new call the PBX places (a queue callback: the agent calls the number, on behalf of the
   * queue); its callid, or null when refused.
   */
  placeCall (from: string, to: string, onBehalfOf?: CallPlan['onBehalfOf']): number | null
}

export function chainOf (callid: number, at: Date): string {
  return `${at.toISOString().replace(/[-:T]/g, '').slice(2, 14)}_${callid}`
}

/** The ground-truth record of a call that starts now. */
export function newRecord (callid: number, plan: CallPlan): SimCallRecord {
  const startedAt = new Date()
  return {
    callid,
    chain: chainOf(callid, startedAt),
    kind: plan.kind,
    from: plan.caller.number,
    to: plan.kind === 'inbound' ? plan.did : plan.target,
    did: plan.did,
    ruleName: plan.ruleName,
    startedAt,
    answeredAt: null,
    endedAt: null,
    answeredBy: null,
    queue: null,
    transfers: [],
    segments: [],
    recordings: [],
    status: 'ringing'
  }
}

/** A timer of the call: skipped once the call ended, cleared with the call's other timers. */
export function after (call: Call, ms: number, fn: () => void): void {
  const t = setTimeout(() => {
    call.timers.delete(t)
    if (!call.ended) fn()
  }, ms)
  t.unref()
  call.timers.add(t)
}

export function clearCallTimers (call: Call): void {
  for (const t of call.timers) clearTimeout(t)
  call.timers.clear()
  call.giveUpScheduled = false
}
