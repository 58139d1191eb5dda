// When participants whose changes were announced but never read went away (their reads found them
// gone): legs of no call the model knows, e.g. an agent's whole answer between two reads on a loaded
// gateway. A call that would end unanswered while such legs went is not called Missed on what was
// seen: its end is the PBX's record's to tell (CallModel, docs/webhooks.md).

/** How long, and how many, are remembered. */
const MEMORY_MS = 10 * 60_000
const MAX = 1000

export class UnreadGone {
  private readonly times: number[] = []

  note (at: number): void {
    this.times.push(at)
    const old = at - MEMORY_MS
    while (this.times.length > 0 && (this.times[0] < old || this.times.length > MAX)) this.times.shift()
  }

  /** How many are remembered. */
  get size (): number {
    return this.times.length
  }

  /** Whether one went away at `from` or later. */
  since (from: number): boolean {
    return this.times.some((at) => at >= from)
  }
}
