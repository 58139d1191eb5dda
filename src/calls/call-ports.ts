// The storage the calls package needs, declared here as ports so that calls/ imports no database:
// the live call state (resumed after a restart) and the unseen-calls bookkeeping (gaps in the PBX's
// call counter). The SQLite adapters are store/sqlite-call-state.ts and store/sqlite-unseen-calls.ts;
// tests may pass memory ones. Loading is asynchronous (awaited once at start, before the Call Control
// client starts); writes are synchronous so that a call's state commits with its events' outbox rows.
import type { CallTrackerState } from './derivation/tracker-state.js'

export interface StoredCall {
  callid: number
  chid: string
  state: CallTrackerState
}

/** What the call model needs to persist its calls. */
export interface CallStateStore {
  loadAll(): Promise<StoredCall[]>
  /**
   * Upserts and deletes, in one transaction (or in the caller's). Never throws for a storage
   * failure: false then, and the latest state of each call waits in memory and is written later.
   */
  write(save: readonly StoredCall[], remove: readonly number[]): boolean
  /** Runs `fn` in one transaction: the outbox inserts it makes and write() commit together. */
  atomically<T>(fn: () => T): T
}

export interface MissingCall {
  callid: number
  /** When the gap was found (ms). */
  since: number
  /** When the call before the gap was seen: the missing call began after it (ms). */
  after: number
}

export interface SavedUnseenCalls {
  highest: number | null
  highestAt: number | null
  missing: MissingCall[]
}

/** Where the unseen-calls bookkeeping is kept between runs. */
export interface UnseenCallStore {
  load(): Promise<SavedUnseenCalls>
  saveHighest(callid: number, at: number): void
  addMissing(calls: readonly MissingCall[]): void
  removeMissing(ids: readonly number[]): void
}
