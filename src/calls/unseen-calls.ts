// Calls the gateway never saw. 3CX numbers calls with a counter (`callid`, 3cx-v20.md §6), so a
// callid that jumps past the highest one seen means calls in between started and ended while the
// gateway could not look: it was down, restarted, cut off from the WebSocket, or too slow to fetch
// them. Those ids are remembered here (and on disk, so a restart finds the calls it missed while
// dead) until call-recovery.ts has ended them from the PBX's call log or given up on them.

import type { MissingCall, UnseenCallStore } from './call-ports.js'

export interface UnseenCallsOptions {
  store?: UnseenCallStore
  /** More missing ids than this at once are not looked up one by one (a PBX restart, a long outage). */
  maxGap?: number
  log?: { warn: (obj: unknown, msg?: string) => void }
}

/** A callid this far below the highest one means the PBX restarted and its counter began again. */
const COUNTER_RESTART = 10_000

export class UnseenCalls {
  private highest: number | null = null
  private highestAt: number | null = null
  private readonly missing = new Map<number, MissingCall>()
  /**
   * Calls seen whose state the model has not written yet: on disk they stay "missing", so a gateway
   * killed before the write looks them up after its restart instead of losing them.
   */
  private readonly unpersisted = new Set<number>()
  private readonly maxGap: number

  constructor (private readonly opts: UnseenCallsOptions = {}) {
    this.maxGap = opts.maxGap ?? 2000
  }

  /** Takes up what the store kept from the previous run (once, at start, before any call is noted). */
  async load (): Promise<void> {
    const saved = await this.opts.store?.load()
    if (saved === undefined) return
    this.highest = saved.highest
    this.highestAt = saved.highestAt
    for (const m of saved.missing) this.missing.set(m.callid, m)
  }

  /** The PBX's counter began again (origin-watch.ts): the next snapshot sets a new baseline. */
  reset (): void {
    this.highest = null
    this.highestAt = null
    this.missing.clear()
    this.unpersisted.clear()
  }

  get size (): number {
    return this.missing.size
  }

  /** The highest callid seen and when (null before the first). */
  get last (): { callid: number, at: number } | null {
    return this.highest === null ? null : { callid: this.highest, at: this.highestAt ?? 0 }
  }

  /**
   * A snapshot's calls, before they are noted one by one: a gateway that never counted before
   * starts at the highest of them (calls that ended before it first looked are not its business).
   */
  baseline (callids: readonly number[], now: number): void {
    if (this.highest !== null || callids.length === 0) return
    this.setHighest(Math.max(...callids), now)
  }

  /** The model saw this call (a participant of it, or the call in a snapshot). */
  note (callid: number, now: number): void {
    if (!Number.isSafeInteger(callid) || callid < 0) return
    if (this.missing.delete(callid)) this.unpersisted.add(callid)
    const highest = this.highest
    if (highest !== null && callid <= highest) {
      if (callid < highest - COUNTER_RESTART) this.setHighest(callid, now) // the PBX restarted: a new count
      return
    }
    if (highest !== null && callid > highest + 1) {
      const gap = callid - highest - 1
      const from = gap > this.maxGap ? callid - this.maxGap : highest + 1
      if (gap > this.maxGap) this.opts.log?.warn({ gap, kept: this.maxGap }, `${gap} calls were never seen; only the last ${this.maxGap} are looked up in the call log`)
      const added: MissingCall[] = []
      const after = this.highestAt ?? now
      for (let id = from; id < callid; id++) {
        if (this.missing.has(id)) continue
        const m = { callid: id, since: now, after }
        this.missing.set(id, m)
        added.push(m)
      }
      if (added.length > 0) this.opts.store?.addMissing(added)
    }
    // Even the very first call counts: killed before its state is written, it must still be found.
    if (this.opts.store !== undefined) {
      this.opts.store.addMissing([{ callid, since: now, after: this.highestAt ?? now }])
      this.unpersisted.add(callid)
    }
    this.setHighest(callid, now)
  }

  /**
   * The model wrote the call's state (or announced its end): it is no longer at risk. Called inside
   * the model's state transaction, so for a call recovered from the log its announcement and its
   * leaving the missing list commit together: a gateway killed in between neither re-announces nor
   * loses it (call-recovery.ts's later resolve() then finds nothing left to do).
   */
  persisted (callid: number): void {
    const unpersisted = this.unpersisted.delete(callid)
    const recovered = this.missing.delete(callid)
    if (unpersisted || recovered) this.opts.store?.removeMissing([callid])
  }

  /**
   * The call log shows a call above the highest id seen: it and the ids below it are missing. It is
   * looked up again once settled, like any gap (it may be a call in progress, about to be seen).
   */
  foundInLog (callid: number, now: number): void {
    const highest = this.highest
    if (highest === null || !Number.isSafeInteger(callid) || callid <= highest) return
    const after = this.highestAt ?? now
    this.note(callid, now)
    const m = { callid, since: now, after }
    this.missing.set(callid, m)
    this.opts.store?.addMissing([m])
  }

  /** Calls found missing at least `settleMs` ago, lowest callid first, at most `limit`. */
  due (now: number, settleMs: number, limit: number): MissingCall[] {
    const out: MissingCall[] = []
    for (const m of this.missing.values()) {
      if (now - m.since < settleMs) continue
      out.push(m)
      if (out.length >= limit) break
    }
    return out.sort((a, b) => a.callid - b.callid)
  }

  /** Done with these ids: recovered, or given up on. */
  resolve (ids: readonly number[]): void {
    const gone = ids.filter((id) => this.missing.delete(id))
    if (gone.length > 0) this.opts.store?.removeMissing(gone)
  }

  private setHighest (callid: number, at: number): void {
    this.highest = callid
    this.highestAt = at
    this.opts.store?.saveHighest(callid, at)
  }
}
