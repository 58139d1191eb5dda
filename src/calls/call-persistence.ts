// Keeps the calls in progress on disk through the CallStateStore port (call-ports.ts), so a restart
// resumes them. A call that emits events has its state written in the same transaction as the
// events' outbox rows; changes without events are written in batches (one transaction every
// flushMs). A failed write is logged and costs at most a resume, never an event.
import type { Clock, TimerHandle } from '../clock.js'
import type { CallTracker } from './derivation/call-tracker.js'
import type { CallStateStore, StoredCall } from './call-ports.js'
import type { UnseenCalls } from './unseen-calls.js'

export interface CallPersistenceOptions {
  /** Without a store nothing is kept: publish() only sends. */
  store?: CallStateStore
  unseen?: UnseenCalls
  clock: Clock
  /** How often the batched changes are written. */
  flushMs: number
  /** The call's tracker while it is in progress. */
  trackerOf: (callid: number) => CallTracker | undefined
  log?: { error: (obj: unknown, msg?: string) => void }
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function stored (t: CallTracker): StoredCall {
  return { callid: t.callid, chid: t.chid, state: t.toState() }
}

export class CallPersistence {
  /** Calls changed since the last state write (without events), and calls to delete from the store. */
  private readonly dirty = new Set<number>()
  private readonly gone = new Set<number>()
  private flushTimer: TimerHandle | null = null
  private stopped = false

  constructor (private readonly opts: CallPersistenceOptions) {}

  /**
   * Runs `send` (handing the tracker's events to the sink) and writes the tracker's state, or
   * deletes a finished call, in one transaction with the sink's outbox rows.
   */
  publish (tracker: CallTracker, send: () => void): void {
    const store = this.opts.store
    if (store === undefined) {
      send()
      return
    }
    try {
      store.atomically(() => {
        send()
        this.dirty.delete(tracker.callid)
        try {
          const written = tracker.finished ? store.write([], [tracker.callid]) : store.write([stored(tracker)], [])
          // Not on disk yet (kept in memory): the call stays "unseen" on disk until it is.
          if (written) this.opts.unseen?.persisted(tracker.callid)
        } catch (err) {
          // Never let the state write roll back the events: a failed write only costs a resume.
          this.opts.log?.error({ err: message(err), callid: tracker.callid }, 'writing the call state failed')
        }
      })
    } catch (err) {
      this.opts.log?.error({ err: message(err), callid: tracker.callid }, 'call state transaction failed')
    }
  }

  /** The call changed without events: its state is written with the next batch. */
  markDirty (callid: number): void {
    if (this.opts.store === undefined || this.stopped) return
    this.dirty.add(callid)
    if (this.flushTimer !== null) return
    this.flushTimer = this.opts.clock.setTimeout(() => {
      this.flushTimer = null
      this.flush()
    }, this.opts.flushMs).unref()
  }

  /** The call is no longer tracked: nothing of it is left to batch. */
  forget (callid: number): void {
    this.dirty.delete(callid)
  }

  /**
   * The calls a previous process left in the store, as trackers made by `resume` (null: not
   * resumable); those and finished ones are deleted with the next write.
   */
  async load (resume: (s: StoredCall) => CallTracker | null): Promise<CallTracker[]> {
    const store = this.opts.store
    if (store === undefined) return []
    const out: CallTracker[] = []
    for (const s of await store.loadAll()) {
      const t = resume(s)
      if (t === null || t.finished) this.gone.add(s.callid)
      else out.push(t)
    }
    return out
  }

  /** Writes the batched state changes (one transaction). */
  flush (): void {
    const store = this.opts.store
    if (store === undefined || this.stopped) return
    const save: StoredCall[] = []
    for (const id of this.dirty) {
      const t = this.opts.trackerOf(id)
      if (t !== undefined && !t.finished) save.push(stored(t))
    }
    const gone = [...this.gone]
    this.dirty.clear()
    this.gone.clear()
    try {
      store.atomically(() => {
        if (store.write(save, gone)) for (const c of save) this.opts.unseen?.persisted(c.callid)
      })
    } catch (err) {
      this.opts.log?.error({ err: message(err), calls: save.length }, 'writing the call state failed')
    }
  }

  /** Writes what is pending; later changes are not written. */
  stop (): void {
    this.flush()
    this.stopped = true
    this.opts.clock.clearTimeout(this.flushTimer ?? undefined)
    this.flushTimer = null
  }
}
