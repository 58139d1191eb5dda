// A condition looked at again only when something that may change it happened, never on a timer of
// its own: the owner calls notify() after each such change, and until() re-checks then. (The
// recordings service's idle() polled its index every 50 ms before.)
export class ChangeSignal {
  private readonly waiters = new Set<() => void>()

  /** Something that may change a condition happened: every until() looks again. */
  notify (): void {
    for (const wake of [...this.waiters]) wake()
  }

  /**
   * Resolves true once `holds()` is true, looking now and after each notify(); false after `timeoutMs`
   * (looking a last time), or when it does not hold and `over()` says nothing will change it any more.
   */
  async until (holds: () => Promise<boolean>, timeoutMs: number, over: () => boolean = () => false): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      // Listening before looking: a change while `holds()` runs wakes the next wait.
      let wake!: () => void
      const changed = new Promise<'changed'>((resolve) => { wake = () => { resolve('changed') } })
      this.waiters.add(wake)
      let timer: NodeJS.Timeout | undefined
      try {
        if (await holds()) return true
        const left = deadline - Date.now()
        if (over() || left <= 0) return false
        const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => { resolve('timeout') }, left) })
        if (await Promise.race([changed, timedOut]) === 'timeout') return await holds()
      } finally {
        clearTimeout(timer)
        this.waiters.delete(wake)
      }
    }
  }
}
