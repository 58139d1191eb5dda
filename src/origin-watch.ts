// The PBX's call counter beginning again while the gateway runs (the PBX restarted, was reinstalled
// or replaced behind the same address). state-origin.ts checks this at start; this module keeps
// checking: every interval it reads XAPI `ActiveCalls` and remembers the highest call id seen with
// the time that call began (on the PBX's clock). On one PBX run ids only grow with time, so a call
// that began clearly later but has an id not above that one means the counter restarted: the calls
// in progress, the unseen-calls counter and pending recordings are then another run's, and the same
// state-origin rule applies (discard them, keep the outbox). Assumes `ActiveCall.Id` is the Call
// Control `callid` (3cx-v20.md §10 item 8: unverified on a real PBX; the simulator makes it so).
import type { XapiApi } from './pbx/pbx-api.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'

/** A call in progress as the watch reads it: its id and when it began (ms, PBX clock). */
export interface ActiveCallStart { id: number, startedAt: number }

/** The highest call id seen, and when that call began. */
export type CounterMark = ActiveCallStart

/** How much later a lower id must have begun to count (calls created together may start out of order). */
export const RESTART_SKEW_MS = 5_000

export interface CounterVerdict {
  /** The mark to keep after these calls. */
  mark: CounterMark | null
  /** The call that proves the counter began again, or null. */
  restartedBy: ActiveCallStart | null
}

/** Pure rule: the calls in progress against the mark (see above); after a restart the mark starts again from them. */
export function judgeCounter (mark: CounterMark | null, calls: readonly ActiveCallStart[], skewMs = RESTART_SKEW_MS): CounterVerdict {
  const valid = calls.filter((c) => Number.isInteger(c.id) && Number.isFinite(c.startedAt))
  const restartedBy = mark === null ? null : valid.find((c) => c.id <= mark.id && c.startedAt > mark.startedAt + skewMs) ?? null
  let next = restartedBy === null ? mark : null
  for (const c of valid) if (next === null || c.id > next.id) next = c
  return { mark: next, restartedBy }
}

/** `GET /ActiveCalls?$select=Id,EstablishedAt`: the calls in progress with their start times. */
export async function readActiveCallStarts (xapi: Pick<XapiApi, 'list'>, timeoutMs = 2500): Promise<ActiveCallStart[]> {
  const page = await xapi.list<{ Id?: number | null, EstablishedAt?: string | null }>('ActiveCalls', { query: { select: ['Id', 'EstablishedAt'] }, timeoutMs })
  return page.value.map((r) => ({ id: Number(r.Id), startedAt: Date.parse(r.EstablishedAt ?? '') }))
}

export interface OriginWatchOptions {
  read: () => Promise<ActiveCallStart[]>
  /** The counter began again: discard the state of the PBX run before (state-origin.ts's rule). */
  restarted: (why: string) => void | Promise<void>
  /** Default 10 s. */
  intervalMs?: number
  skewMs?: number
  clock?: Clock
  log?: { debug?: (obj: unknown, msg?: string) => void }
}

export class OriginWatch {
  private mark: CounterMark | null = null
  private timer: TimerHandle | null = null
  private running: Promise<void> | null = null
  /** Restarts detected since start. */
  restarts = 0

  constructor (private readonly opts: OriginWatchOptions) {}

  start (): void {
    if (this.timer !== null) return
    const clock = this.opts.clock ?? systemClock
    this.timer = clock.setInterval(() => { void this.check() }, this.opts.intervalMs ?? 10_000).unref()
  }

  async stop (): Promise<void> {
    ;(this.opts.clock ?? systemClock).clearInterval(this.timer ?? undefined)
    this.timer = null
    await this.running
  }

  /** One look at the calls in progress (also run by the timer); one at a time. */
  async check (): Promise<boolean> {
    if (this.running !== null) { await this.running; return false }
    let restarted = false
    this.running = (async () => {
      let calls: ActiveCallStart[]
      try {
        calls = await this.opts.read()
      } catch (err) {
        // The PBX down or slow: the next look tells.
        this.opts.log?.debug?.({ err: err instanceof Error ? err.message : String(err) }, 'origin watch: could not read ActiveCalls')
        return
      }
      const was = this.mark
      const verdict = judgeCounter(this.mark, calls, this.opts.skewMs)
      this.mark = verdict.mark
      if (verdict.restartedBy === null || was === null) return
      restarted = true
      this.restarts++
      const by = verdict.restartedBy
      await this.opts.restarted(`the call counter began again: call ${by.id} began at ${new Date(by.startedAt).toISOString()}, after call ${was.id} (began ${new Date(was.startedAt).toISOString()})`)
    })()
    try {
      await this.running
    } finally {
      this.running = null
    }
    return restarted
  }
}
