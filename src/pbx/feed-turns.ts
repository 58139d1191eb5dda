// The order in which the change feed (callcontrol-feed.ts) emits: the PBX's. Reads of different
// participants run side by side and answer in any order; the change of each event waits for the
// turn of the event announced before it. Read out of order, an outbound call whose trunk leg was
// read first (already answered) looked inbound, and an attended transfer's consultation target came
// before its consultation. A snapshot requested covers every change announced before it: the turns
// waiting then stop waiting (what they would emit is dropped or harmless), later events queue anew.

/** A promise and its resolver (Promise.withResolvers needs Node 22). */
export function settledBy (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((res) => { resolve = res })
  return { promise, resolve }
}

export interface Turn {
  /** Resolved when the events announced before this one have had their turn (or a snapshot covers them). */
  turn: Promise<void>
  /** This event's change is emitted or dropped: the next may go once this one's turn has come. */
  release: () => void
}

export class FeedTurns {
  private last: Promise<void> = Promise.resolve()
  /** Resolvers of the turns not come yet: a snapshot request resolves them all. */
  private waiting = new Set<() => void>()

  /** The turn of the event announced now. */
  take (): Turn {
    const before = this.last
    const mine = settledBy()
    this.last = mine.promise
    const ready = settledBy()
    const waiting = this.waiting
    waiting.add(ready.resolve)
    void before.then(() => {
      waiting.delete(ready.resolve)
      ready.resolve()
    })
    let released = false
    return {
      turn: ready.promise,
      release: () => {
        if (released) return
        released = true
        void ready.promise.then(mine.resolve)
      }
    }
  }

  /** A snapshot was requested (or the feed stopped): no turn waits for an event announced before now. */
  reset (): void {
    for (const resolve of this.waiting) resolve()
    this.waiting = new Set()
    this.last = Promise.resolve()
  }
}
