// Per-recording back-off: how often each conversion failed, and how long to wait before its next try.
// In memory: a restart starts every schedule again (and the index makes failed ones pending again).

/** A failed conversion (MP3_DIR full, unwritable, unmounted) is tried again over ~2 h: 1 min … 1 h. */
export const CONVERT_RETRY_MS: readonly number[] = [60_000, 300_000, 900_000, 1_800_000, 3_600_000]

export class RetryCounts {
  private readonly failures = new Map<number, number>()
  constructor (readonly schedule: readonly number[]) {}

  /** One more failure of `id`: the delay before its next try, or null once the schedule is spent. */
  next (id: number): { attempt: number, delayMs: number } | null {
    const attempt = (this.failures.get(id) ?? 0) + 1
    const delayMs = this.schedule[attempt - 1]
    if (delayMs === undefined) { this.failures.delete(id); return null }
    this.failures.set(id, attempt)
    return { attempt, delayMs }
  }

  clear (id: number): void { this.failures.delete(id) }
}
