/**
 * Time as a dependency. Modules that wait or stamp times take a `Clock` so their tests can run on
 * fake time (test/fake-clock.ts) instead of sleeping; production passes `systemClock`.
 */
export interface TimerHandle {
  /** Lets the process exit while the timer is pending (no-op on fake time). */
  unref (): TimerHandle
}

export interface Clock {
  now (): number
  setTimeout (fn: () => void, ms: number): TimerHandle
  clearTimeout (handle: TimerHandle | undefined): void
  setInterval (fn: () => void, ms: number): TimerHandle
  clearInterval (handle: TimerHandle | undefined): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout | undefined) },
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => { clearInterval(handle as NodeJS.Timeout | undefined) }
}

/** Resolves after `ms` on the given clock; the wait alone does not keep the process alive. */
export function sleep (clock: Clock, ms: number): Promise<void> {
  return new Promise(resolve => { clock.setTimeout(resolve, ms).unref() })
}
