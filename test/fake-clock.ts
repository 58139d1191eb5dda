import type { Clock, TimerHandle } from '../src/clock.js'

interface FakeTimer extends TimerHandle {
  id: number
  at: number
  every: number | null
  fn: () => void
}

/** Lets pending promise callbacks run (a few macrotask turns). */
export async function settle (turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>(resolve => setImmediate(resolve))
}

/**
 * A clock that moves only when the test says so. `advance(ms)` fires due timers in time order and
 * lets promises settle between them, so code that awaits between timers behaves as on real time.
 */
export class FakeClock implements Clock {
  private current: number
  private nextId = 1
  private timers = new Map<number, FakeTimer>()

  constructor (start = Date.UTC(2026, 0, 1, 9, 0, 0)) { this.current = start }

  now (): number { return this.current }

  setTimeout (fn: () => void, ms: number): TimerHandle { return this.add(fn, ms, null) }
  setInterval (fn: () => void, ms: number): TimerHandle { return this.add(fn, ms, Math.max(1, ms)) }
  clearTimeout (handle: TimerHandle | undefined): void { if (handle !== undefined) this.timers.delete((handle as FakeTimer).id) }
  clearInterval (handle: TimerHandle | undefined): void { this.clearTimeout(handle) }

  /** How many timers are waiting. */
  get pending (): number { return this.timers.size }

  /** Moves the time without firing timers, as a busy event loop does: the next advance fires them late. */
  stall (ms: number): void { this.current += ms }

  async advance (ms: number): Promise<void> {
    const until = this.current + ms
    await settle()
    for (;;) {
      const due = [...this.timers.values()].filter(t => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due === undefined) break
      this.current = Math.max(this.current, due.at)
      if (due.every === null) this.timers.delete(due.id)
      else due.at += due.every
      due.fn()
      await settle()
    }
    this.current = until
    await settle()
  }

  /**
   * Moves to the earliest pending timer and fires it (with any due at that same moment). Unlike
   * advance(ms) it cannot also fire a timer that the first one's real I/O schedules meanwhile.
   */
  async advanceToNext (): Promise<void> {
    const next = Math.min(...[...this.timers.values()].map(t => t.at))
    if (Number.isFinite(next)) await this.advance(Math.max(0, next - this.current))
  }

  private add (fn: () => void, ms: number, every: number | null): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), every, fn, unref: () => timer }
    this.timers.set(timer.id, timer)
    return timer
  }
}
