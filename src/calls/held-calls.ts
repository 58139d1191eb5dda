// Calls held until the PBX says when they began and were answered: calls first seen in a snapshot
// (already in progress) and calls the model knew that a snapshot shows answered during a gap. Their
// changes are queued here, in order, and played by the model once the times are known (or given up
// on after callTimesWaitMs), so a call's chid and durations are the PBX's, not the moment the gateway
// looked. The retries wait on the injected clock.
import { sleep, type Clock } from '../clock.js'
import type { CallControlDnType, CallParticipant, ParticipantChange } from '../pbx/callcontrol-types.js'
import type { CallRecordLookup } from './pbx-call-record.js'
import { callTimesOfRecord, type CallTimesLookup, type PbxCallTimes } from './pbx-call-times.js'

/**
 * A call waiting for the PBX's times: its changes in order. `known`: a call the model already
 * tracks (a snapshot shows it answered during a gap), last seen at `after`. `movedOut`: legs seen in
 * another call since, whose held changes are older than that and skipped.
 */
export interface HeldCall {
  seenAt: number
  known: boolean
  after: number
  changes: Array<{ change: ParticipantChange, snapshot: boolean }>
  movedOut: Set<string>
}

export interface HeldCallsOptions {
  clock: Clock
  /** Asks the PBX's ActiveCalls (see CallModelOptions.callTimes). */
  callTimes: CallTimesLookup
  /** The call log, for held calls that ended meanwhile. */
  callRecords?: CallRecordLookup
  /** How long to keep asking; default 3 s. */
  waitMs?: number
  /** Plays the held call's changes (times null: the PBX gave none). */
  release: (callid: number, times: PbxCallTimes | null) => void
  isStopped: () => boolean
  log?: { warn?: (obj: unknown, msg?: string) => void }
}

export class HeldCalls {
  private readonly held = new Map<number, HeldCall>()
  /** Leg key → the held call it was last queued for. */
  private readonly legs = new Map<string, number>()

  constructor (private readonly opts: HeldCallsOptions) {}

  has (callid: number): boolean {
    return this.held.has(callid)
  }

  /** The calls held. */
  callids (): IterableIterator<number> {
    return this.held.keys()
  }

  get (callid: number): HeldCall | undefined {
    return this.held.get(callid)
  }

  /** The held call a leg was queued for. */
  callOfLeg (key: string): number | undefined {
    return this.legs.get(key)
  }

  legKeys (): IterableIterator<string> {
    return this.legs.keys()
  }

  hold (callid: number, seenAt: number, known: boolean, after: number): void {
    this.held.set(callid, { seenAt, known, after, changes: [], movedOut: new Set() })
  }

  queueUpsert (held: HeldCall, key: string, callid: number, participant: CallParticipant, dnType: CallControlDnType, at: number, snapshot: boolean): void {
    held.changes.push({ change: { kind: 'upsert', participant, dnType, at }, snapshot })
    this.legs.set(key, callid)
  }

  queueRemove (held: HeldCall, key: string, dn: string, id: number, at: number, uncertain: boolean): void {
    this.legs.delete(key)
    held.changes.push({ change: { kind: 'remove', dn, id, at, uncertain }, snapshot: false })
  }

  /** Takes the call out of the hold (its legs too), to be played. */
  take (callid: number): HeldCall | undefined {
    const held = this.held.get(callid)
    if (held === undefined) return undefined
    this.held.delete(callid)
    for (const [key, id] of [...this.legs]) if (id === callid) this.legs.delete(key)
    return held
  }

  /**
   * Asks the PBX when the held calls began and were answered, then releases them, each call as
   * soon as its times are known: ActiveCalls for calls in progress, the call log for calls that
   * ended meanwhile (ActiveCalls no longer lists them). Retries for waitMs.
   */
  async askTimes (callids: number[]): Promise<void> {
    const { clock, log } = this.opts
    const until = clock.now() + (this.opts.waitMs ?? 3000)
    let waiting = callids
    const found = (times: Map<number, PbxCallTimes>): void => {
      for (const [id, t] of times) this.opts.release(id, t)
      waiting = waiting.filter((id) => !times.has(id))
    }
    for (let pause = 100; waiting.length > 0 && !this.opts.isStopped(); pause = Math.min(pause * 2, 1000)) {
      try {
        found(await this.opts.callTimes(waiting))
        if (waiting.length > 0) found(await this.endedTimes(waiting))
      } catch (err) {
        log?.warn?.({ err: err instanceof Error ? err.message : String(err), calls: waiting.length }, 'asking the PBX when calls in progress began failed; retrying')
      }
      if (waiting.length === 0 || clock.now() >= until) break
      await sleep(clock, Math.min(pause, Math.max(0, until - clock.now())))
    }
    if (waiting.length > 0 && !this.opts.isStopped()) log?.warn?.({ calls: waiting.length }, 'the PBX gave no times for calls seen in progress after a gap; they are dated from when the gateway saw them, their events marked timing=approximate')
    for (const id of waiting) this.opts.release(id, null)
  }

  /**
   * Times of held calls from their call-log records: calls that ended while the PBX was asked. Only
   * calls that lost a leg meanwhile are looked up (one query each); the others are still going on.
   */
  private async endedTimes (callids: readonly number[]): Promise<Map<number, PbxCallTimes>> {
    const out = new Map<number, PbxCallTimes>()
    const lookup = this.opts.callRecords
    if (lookup === undefined) return out
    await Promise.all(callids.map(async (callid) => {
      const held = this.held.get(callid)
      if (held === undefined || !held.changes.some((c) => c.change.kind === 'remove')) return
      const record = await lookup({ callid, seenFrom: held.seenAt, until: this.opts.clock.now() })
      const times = record === null ? null : callTimesOfRecord(record)
      if (times !== null) out.set(callid, times)
    }))
    return out
  }
}
