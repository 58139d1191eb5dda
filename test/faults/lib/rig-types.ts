// The fault rig's plain types (fault-rig.ts re-exports them): the traffic a scenario plays, what a
// scenario run gives, its checked claims, and the receiver's behaviour.
import type { CheckReport } from './ground-truth.js'

export interface TrafficPlan {
  callsPerSecond: number
  seconds: number
  seed: number
  maxRingMs?: number
  maxTalkMs?: number
  recordShare?: number
}

export interface ScenarioResult {
  name: string
  seconds: number
  calls: number
  report: CheckReport
  /** Calls the gateway still listed in pbx.ac.get after everything ended. */
  phantoms: number
  restarts: number
  /** Heap in use (MB, after GC) once started and at the end, in the last gateway process. */
  heapMb: { baseline: number, end: number }
  /** Lines the gateway logged at level error or fatal. */
  errorLines: string[]
  /** The gateway exited by itself (a crash). */
  crashed: boolean
  notes: string[]
  /** What the scenario says it showed, each checked: a false claim fails the scenario (verdict.ts). */
  claims: Claim[]
}

/** One checked statement of a scenario: `what` it claims, whether it held, and what was measured. */
export interface Claim {
  what: string
  ok: boolean
  got: string
}

/** Receiver behaviour the scenario switches at will. */
export type ReceiverMode = { kind: 'ok' } | { kind: 'slow', delayMs: number } | { kind: 'status', status: number }
