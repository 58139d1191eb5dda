// Ends a call whose last legs vanished from a snapshot (a gap) from the PBX's record of it: asks the
// call log, retrying (3CX writes the record a moment after the call) for at most waitMs on the
// injected clock, then ends it from the record or, without one, from what the model knew. A call
// that comes back meanwhile goes on as before. What the record means: call-reconciliation.ts.
import { sleep, type Clock } from '../clock.js'
import type { CallEvent } from './call-events.js'
import type { CallTracker } from './derivation/call-tracker.js'
import type { CallRecordLookup, PbxCallRecord } from './pbx-call-record.js'

export interface EndReconcilerOptions {
  clock: Clock
  lookup: CallRecordLookup
  /** Default 20 s. */
  waitMs?: number
  /** Whether the tracker's end is still owed (the model is running, the call neither back nor held). */
  stillOwed: (tracker: CallTracker) => boolean
  /** Hands the end's events to the model. */
  settle: (tracker: CallTracker, events: CallEvent[]) => void
  log?: { warn?: (obj: unknown, msg?: string) => void }
}

export class EndReconciler {
  /** Calls whose end is being looked up. */
  private readonly running = new Set<number>()

  constructor (private readonly opts: EndReconcilerOptions) {}

  async reconcile (tracker: CallTracker): Promise<void> {
    const { clock, lookup, stillOwed, log } = this.opts
    const callid = tracker.callid
    if (this.running.has(callid)) return
    this.running.add(callid)
    try {
      const until = clock.now() + (this.opts.waitMs ?? 20_000)
      let pause = 200
      let record: PbxCallRecord | null = null
      for (;;) {
        try {
          record = await lookup({ callid, seenFrom: tracker.startedAt, until: clock.now() })
        } catch (err) {
          log?.warn?.({ err: err instanceof Error ? err.message : String(err), callid }, 'looking up the PBX record of a call failed; retrying')
        }
        if (!stillOwed(tracker)) return
        if (record !== null || clock.now() >= until) break
        await sleep(clock, Math.min(pause, Math.max(0, until - clock.now())))
        pause = Math.min(pause * 2, 2000)
        if (!stillOwed(tracker)) return
      }
      if (record === null) log?.warn?.({ callid }, 'the PBX has no record of a call whose end the gateway did not see; ending it with what the gateway knew')
      this.opts.settle(tracker, tracker.endWithRecord(record, clock.now()))
    } finally {
      this.running.delete(callid)
    }
  }
}
