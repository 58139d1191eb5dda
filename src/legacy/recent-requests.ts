// De-duplication of non-idempotent requests (legacy-api.md §3.5): a double-clicked "call" button
// sends the same makecall twice; within a short window the second gets the first one's answer
// (result or error) instead of dialling again.

interface Recent { answer: Promise<unknown>, settled: boolean, until: number }

export class RecentRequests {
  private readonly recent = new Map<string, Recent>()

  constructor (private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /**
   * Runs `work` for `key`, or answers with the run already in flight for it, or with one that
   * started less than the window ago.
   */
  async run<T> (key: string, work: () => Promise<T>): Promise<T> {
    const now = this.now()
    const seen = this.recent.get(key)
    if (seen !== undefined && (!seen.settled || now < seen.until)) return await (seen.answer as Promise<T>)
    const entry: Recent = { answer: work(), settled: false, until: now + this.windowMs }
    this.recent.set(key, entry)
    const forget = (): void => {
      entry.settled = true
      const left = entry.until - this.now()
      if (left <= 0) this.drop(key, entry)
      else setTimeout(() => this.drop(key, entry), left).unref()
    }
    entry.answer.then(forget, forget)
    return await (entry.answer as Promise<T>)
  }

  get size (): number { return this.recent.size }

  private drop (key: string, entry: Recent): void {
    if (this.recent.get(key) === entry) this.recent.delete(key)
  }
}
