// The timer of each call in progress: its grace period, or the moment its unseen end is reconciled
// (CallTracker.deadline()). A due end may have to wait: a change still being fetched may continue
// the call, and while the gateway is blind only the next snapshot can tell. Timers come from the
// injected clock, so tests run on fake time.
import type { Clock, TimerHandle } from '../clock.js'

/** The longest a call's end waits for changes that are still being fetched, and how often it looks. */
export const MAX_HOLD_MS = 10_000
export const HOLD_POLL_MS = 50

/** What decides whether a due end waits (see CallModelOptions.oldestPendingChange and blindSince). */
export interface EndWaitFacts {
  /** When the end was due. */
  due: number
  now: number
  /** The call is held for the PBX's times: its changes are not played yet. */
  held: boolean
  /** When the oldest change announced but not fetched yet arrived, or null. */
  pending: number | null
  /** Since when the gateway cannot see the PBX, or null. */
  blind: number | null
}

/** Whether a due end waits: for a held call's changes, a blind spell's snapshot, or a pending fetch (bounded). */
export function endMustWait (f: EndWaitFacts): boolean {
  if (f.held) return true
  if (f.blind !== null && f.blind <= f.due) return true
  return f.pending !== null && f.pending <= f.due && f.now - f.due < MAX_HOLD_MS
}

export class CallDeadlines {
  private readonly timers = new Map<number, { at: number, handle: TimerHandle }>()
  private stopped = false

  constructor (private readonly clock: Clock) {}

  /**
   * (Re)arms the call's timer for `due` (null: none). When due, `waits(due)` is asked, then every
   * HOLD_POLL_MS while it says yes; then `fire(due)` runs. A timer already armed for `due` is kept.
   * A timer that ran late asks `waits` with the moment it ran instead of `due` (see below).
   */
  arm (callid: number, due: number | null, waits: (due: number) => boolean, fire: (due: number) => void): void {
    const armed = this.timers.get(callid)
    if (armed !== undefined && armed.at === due) return
    this.clear(callid)
    if (due === null || this.stopped) return
    // A timer that runs late (the event loop was busy: a loaded machine, a large snapshot) runs before
    // the socket reads that waited meanwhile, so a change the PBX sent before the end was due (a blind
    // transfer's target) may still be unread. Then it looks once more after those reads (a 1 ms timer
    // runs after them: Node's smallest) and counts what they brought as having come before the end was due.
    let counted = due
    const check = (): void => {
      this.timers.delete(callid)
      const late = this.clock.now() - due > HOLD_POLL_MS
      if (late && counted === due) {
        counted = this.clock.now()
        this.set(callid, due, check, 1)
        return
      }
      if (waits(counted)) {
        this.set(callid, due, check, HOLD_POLL_MS)
        return
      }
      fire(due)
    }
    this.set(callid, due, check, Math.max(0, due - this.clock.now()))
  }

  clear (callid: number): void {
    const armed = this.timers.get(callid)
    if (armed !== undefined) this.clock.clearTimeout(armed.handle)
    this.timers.delete(callid)
  }

  /** Clears every timer; later arm() calls do nothing. */
  stop (): void {
    this.stopped = true
    for (const { handle } of this.timers.values()) this.clock.clearTimeout(handle)
    this.timers.clear()
  }

  private set (callid: number, at: number, fn: () => void, ms: number): void {
    this.timers.set(callid, { at, handle: this.clock.setTimeout(fn, ms).unref() })
  }
}
