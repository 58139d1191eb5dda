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

export interface SleepOptions {
  /** Rejects with the signal's reason as soon as it aborts. */
  signal?: AbortSignal
  /** Holds the process open while waiting (a retry in progress is work; a poll is not). Default false. */
  keepAlive?: boolean
}

/** Resolves after `ms` on the given clock; unless `keepAlive`, the wait alone does not keep the process alive. */
export function sleep (clock: Clock, ms: number, opts: SleepOptions = {}): Promise<void> {
  const { signal, keepAlive = false } = opts
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const onAbort = (): void => { clock.clearTimeout(timer); reject(signal?.reason) }
    const timer = clock.setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    if (!keepAlive) timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
