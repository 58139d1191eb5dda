// Recordings of the legs that were recorded: 3CX writes the WAV files a little after the leg ends,
// so they are scheduled on timers of their own (cleared by reset and stop), then listed on the
// call's record once written. Writes already under way when cleared are aborted, and `settled()`
// lets shutdown wait for them, so nothing is written into a folder its owner is deleting.
import path from 'node:path'
import type { SimCallRecord, SimRecording } from '../sim-types.js'
import { callToneHz, writeWavFile } from '../wav.js'
import type { Call, Leg } from './live-call.js'
import { simParty } from './party.js'
import { recordingRelativePath } from './recording-files.js'
import { randomInt, seededRandom, type Random } from './seeded-random.js'

export class Recorder {
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly writing = new Set<Promise<void>>()
  /** Aborts the writes of the current generation; replaced on every clear. */
  private abort = new AbortController()
  private nextId = 1
  private random: Random

  /** `delayMs`: recordings appear between these delays after their leg ends (3CX writes them after the call). */
  constructor (private readonly recordingsDir: string, private readonly seed: number, private readonly delayMs: readonly [number, number]) {
    this.random = seededRandom(seed)
  }

  /** Plans the files of a recorded leg that just ended (split into the plan's segments). */
  schedule (call: Call, leg: Leg, segment: SimCallRecord['segments'][number] | null): void {
    const endedAt = Date.now()
    const startedAt = leg.connectedAt ?? endedAt
    const n = call.plan.recordingSegments
    const partMs = (endedAt - startedAt) / n
    const callerSide = leg.role === 'caller'
    const from = callerSide ? leg.self : leg.facing
    const to = callerSide ? leg.facing : leg.self
    const callType: SimRecording['CallType'] = call.plan.kind === 'inbound' ? 'InboundExternal' : call.plan.kind === 'outbound' ? 'OutboundExternal' : 'Local'
    const recs: SimRecording[] = []
    for (let i = 0; i < n; i++) {
      const start = new Date(startedAt + i * partMs)
      const relativePath = recordingRelativePath({
        extension: leg.self.dn,
        name: leg.self.name,
        participantId: leg.p.id,
        segmentIndex: i + 1,
        otherNumber: leg.facing.number,
        startedAt: start,
        callid: call.callid
      })
      recs.push({
        Id: this.nextId++,
        callid: call.callid,
        filePath: path.join(this.recordingsDir, relativePath),
        relativePath,
        StartTime: start,
        EndTime: new Date(startedAt + (i + 1) * partMs),
        CallType: callType,
        from: simParty(from),
        to: simParty(to),
        dn: leg.self.dn,
        segmentIndex: i + 1,
        refParticipantId: leg.p.id
      })
    }
    segment?.recordingIds.push(...recs.map((r) => r.Id))
    const record = call.record
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const writing = this.write(record, recs, partMs, this.abort.signal).finally(() => this.writing.delete(writing))
      this.writing.add(writing)
    }, randomInt(this.random, this.delayMs[0], this.delayMs[1]))
    timer.unref()
    this.timers.add(timer)
  }

  /**
   * Drops pending recordings and aborts the ones being written (see `settled`); `restart` also
   * rewinds the delay generator to the seed (reset).
   */
  clear (restart = false): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.abort.abort()
    this.abort = new AbortController()
    if (restart) this.random = seededRandom(this.seed)
  }

  /** Resolves once no recording is being written (call after `clear` to shut down cleanly). */
  async settled (): Promise<void> {
    while (this.writing.size > 0) await Promise.all(this.writing)
  }

  private async write (record: SimCallRecord, recs: SimRecording[], partMs: number, signal: AbortSignal): Promise<void> {
    for (const rec of recs) {
      if (signal.aborted) return
      try {
        await writeWavFile(rec.filePath, partMs, { toneHz: callToneHz(rec.callid), signal })
        record.recordings.push(rec)
      } catch {
        // Aborted (reset, shutdown) or the folder is unusable (removed, disk full): no file, no listing.
      }
    }
  }
}
