// Ends the calls the gateway never saw (unseen-calls.ts) from the PBX's call log: every few seconds,
// while the model's view is live, the ids missing for a while are looked up with one paged query;
// each one found that touched a monitored DN is handed to the model, which announces it as it would
// a call whose end fell into a gap (call-started and call-ended events, no ringing: nobody saw it
// ring). Ids the log never shows (not every callid is a call) are given up after a while.
import type { CallRecordsLookup, PbxCallRecord } from './pbx-call-record.js'
import type { UnseenCalls } from './unseen-calls.js'

export interface CallRecoveryOptions {
  unseen: UnseenCalls
  lookup: CallRecordsLookup
  /** True while the WebSocket is up and its snapshot applied: a call in progress would be seen. */
  live: () => boolean
  /**
   * Counts the snapshots applied. After each, the log is asked once for calls above the highest id
   * seen: calls made while the gateway was down or cut off, on a PBX that has been quiet since.
   */
  syncs?: () => number
  /** Whether the gateway monitors one of these DNs (calls of other DNs are not its business). */
  monitored: (dns: readonly string[]) => boolean
  /** Announces a recovered call. */
  recover: (record: PbxCallRecord) => void
  /** How long an id stays missing before it is looked up: it may be a call still being fetched (default 5 s). */
  settleMs?: number
  /** How long the call log may take to show a call (3CX writes it after the call; default 2 min). */
  giveUpMs?: number
  everyMs?: number
  batch?: number
  now?: () => number
  log?: { warn: (obj: unknown, msg?: string) => void, info?: (obj: unknown, msg?: string) => void }
}

export class CallRecovery {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private readonly now: () => number
  private probedSync = 0
  /** Calls recovered since start (for metrics). */
  recovered = 0

  constructor (private readonly opts: CallRecoveryOptions) {
    this.now = opts.now ?? Date.now
  }

  start (): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => { void this.tick() }, this.opts.everyMs ?? 2000)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One round: look up what is due, recover what the log shows, give up on what it never will. */
  async tick (): Promise<void> {
    if (this.running !== null) return await this.running
    this.running = this.round().finally(() => { this.running = null })
    return await this.running
  }

  private async round (): Promise<void> {
    const { unseen } = this.opts
    if (!this.opts.live()) return
    await this.probe()
    if (unseen.size === 0) return
    const now = this.now()
    const due = unseen.due(now, this.opts.settleMs ?? 5000, this.opts.batch ?? 200)
    if (due.length === 0) return
    let records: Map<number, PbxCallRecord>
    try {
      const ids = due.map((m) => m.callid)
      records = await this.opts.lookup({ low: Math.min(...ids), high: Math.max(...ids), seenFrom: Math.min(...due.map((m) => m.after)), until: now })
    } catch (err) {
      this.opts.log?.warn({ err: err instanceof Error ? err.message : String(err), calls: due.length }, 'looking up calls the gateway never saw failed; will retry')
      return
    }
    const done: number[] = []
    for (const m of due) {
      const record = records.get(m.callid)
      if (record === undefined) {
        if (now - m.since >= (this.opts.giveUpMs ?? 120_000)) done.push(m.callid)
        continue
      }
      done.push(m.callid)
      this.announce(record)
    }
    // An announced call already left the list with its events (UnseenCalls.persisted, one
    // transaction); this resolves the rest: given up, not monitored, or known to the model.
    unseen.resolve(done)
  }

  private announce (record: PbxCallRecord): void {
    if (!this.opts.monitored(record.dns ?? [])) return
    this.opts.recover(record)
    this.recovered++
  }

  /** Once per snapshot: calls above the highest id seen (see CallRecoveryOptions.syncs). */
  private async probe (): Promise<void> {
    const sync = this.opts.syncs?.() ?? 0
    const last = this.opts.unseen.last
    if (sync === this.probedSync || last === null) return
    const now = this.now()
    let records: Map<number, PbxCallRecord>
    try {
      records = await this.opts.lookup({ low: last.callid + 1, high: null, seenFrom: last.at, until: now })
    } catch (err) {
      this.opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'looking for calls made while the gateway could not see the PBX failed; will retry')
      return
    }
    this.probedSync = sync
    // Into the gap bookkeeping: announced once settled (a call in progress would be seen by then).
    for (const id of [...records.keys()].sort((a, b) => a - b)) this.opts.unseen.foundInLog(id, now)
  }
}
