// The stretches in which a gateway that fell behind could not see the PBX (pure, for the fault rig).
// When its participant reads fall more than a second behind (a loaded machine, a slow PBX), the
// gateway gives them up and takes one snapshot instead (webhooks.md "A slow PBX", logged as a warning
// with how far behind it was): what changed from the oldest change it had not read until the
// simulator answered that snapshot was never read, only its result is seen: a transfer in it shows as
// its result. That is a window of the kind `lag` (ground-truth.ts), measured from the gateway's own
// log and the simulator's request log, not guessed.
import type { BlindWindow } from './ground-truth.js'

export interface CatchUp {
  /** When the gateway gave up its reads (its log line's time, ms). */
  at: number
  /** How long the oldest unread change had waited then. */
  behindMs: number
}

export const CATCH_UP_MESSAGE = 'participant fetches fell behind; taking a snapshot instead'

/** The catch-up a gateway log line (pino JSON) reports, else null. */
export function catchUpOf (line: string): CatchUp | null {
  if (!line.includes(CATCH_UP_MESSAGE)) return null
  try {
    const o = JSON.parse(line) as { time?: unknown, behindMs?: unknown }
    return typeof o.time === 'number' && typeof o.behindMs === 'number' ? { at: o.time, behindMs: o.behindMs } : null
  } catch {
    return null
  }
}

/**
 * One window per catch-up: from the oldest change not read to the first snapshot (`GET /callcontrol`)
 * the simulator answered after it (`snapshots`: answer times, ms). A catch-up whose snapshot is not in
 * the log (trimmed, or not answered before the end) is blind until `end`.
 */
export function catchUpWindows (catchUps: readonly CatchUp[], snapshots: readonly number[], end: number): BlindWindow[] {
  const answered = [...snapshots].sort((a, b) => a - b)
  return catchUps.map((c) => ({ kind: 'lag' as const, from: c.at - c.behindMs, to: answered.find((s) => s >= c.at) ?? end }))
}
