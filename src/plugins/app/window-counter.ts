// Requests per key in fixed windows, counted the way @fastify/rate-limit's local store counts
// them (a key's window opens at its first request and lasts `windowMs`), but synchronously and
// without allocating per request: the per-key limit runs on every authenticated request.

/** What the auth plugin asks of a per-key limit, synchronously on every authenticated request. */
export interface PerKeyLimit {
  /** Counts one request of `key`: 0 when it is within the limit, else the seconds until its window ends (≥ 1). */
  hit: (key: string) => number
}

export class WindowCounter implements PerKeyLimit {
  private readonly windows = new Map<string, { count: number, start: number }>()

  constructor (
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now
  ) {}

  /** Counts one request of `key`: 0 when it is within the limit, else the seconds until its window ends (≥ 1). */
  hit (key: string): number {
    const now = this.now()
    let w = this.windows.get(key)
    if (w === undefined) {
      w = { count: 0, start: now }
      this.windows.set(key, w)
    } else if (now - w.start >= this.windowMs) {
      w.count = 0
      w.start = now
    }
    w.count++
    return w.count <= this.max ? 0 : Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000))
  }
}
