// What the console's queues panel shows live (pure): for each queue, the calls waiting in it (a
// queue leg, nobody talking to the caller yet) and since when the longest of them has waited.
// Agents and their login come from the directory (3CX V20 keeps one login per extension, the same
// for all its queues: 3cx-v20.md §4.3), so they are not derived here.
import type { ConsoleCall } from './live-view.js'

export interface QueueWaiting {
  /** The queue's DN number. */
  number: string
  /** Calls waiting in the queue. */
  waiting: number
  /** When the longest-waiting call entered the queue (server time); the page ticks the wait. */
  longestSince: number
}

/** Waiting calls per queue, queues in number order; a queue without waiting calls is absent. */
export function queueWaiting (calls: readonly ConsoleCall[]): QueueWaiting[] {
  const byQueue = new Map<string, QueueWaiting>()
  for (const c of calls) {
    // Answered (or on hold with the agent who answered): no longer waiting, whatever legs linger.
    if (c.state === 'talking' || c.state === 'held') continue
    for (const l of c.legs) {
      if (l.dnType !== 'queue') continue
      const q = byQueue.get(l.dn)
      if (q === undefined) byQueue.set(l.dn, { number: l.dn, waiting: 1, longestSince: l.since })
      else {
        q.waiting++
        q.longestSince = Math.min(q.longestSince, l.since)
      }
    }
  }
  return [...byQueue.values()].sort((a, b) => a.number.localeCompare(b.number, 'en', { numeric: true }))
}
