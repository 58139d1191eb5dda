// The recordings pipeline: ended legs → their WAV files (folder or XAPI) → MP3 through the ffmpeg
// pool → `recording` event with unguessable links → retention. Every step is recorded in the index
// first, so a gateway killed anywhere resumes on the next start and announces each leg once.
import { mkdir, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { Cron } from 'croner'
import { DEFAULT_RECORDINGS_GIVE_UP_MS, type Config } from '../config.js'
import type { XapiApi } from '../pbx/pbx-api.js'
import { isStorageError } from '../storage-health.js'
import { ConversionError, FfmpegPool, PoolClosedError, resolveFfmpegPath } from './ffmpeg-pool.js'
import { legKeyOf, mapMaybe, type Maybe, type RecordingIndex, type EndedLeg, type LegRow, type RecordingRow } from './recording-index.js'
import { recordingUrl } from './recording-links.js'
import { decideLeg, type LegTiming, type LegWindow } from './recording-matcher.js'
import { recordingEvent } from './recording-event.js'
import { legFromCallEvent } from './call-hook.js'
import type { CallEvent } from '../calls/call-events.js'
import { emptyLook, TransientSourceError, type LegLook, type RecordingSource } from './recording-source.js'
import { parseLegacyCallId } from '../calls/legacy-call-id.js'
import { DirRecordingSource } from './dir-source.js'
import { XapiRecordingSource } from './xapi-source.js'
import { formatBytes, runRetention, type RetentionResult } from './retention.js'
import { CONVERT_RETRY_MS, RetryCounts } from './retry-counts.js'
import { ChangeSignal } from './change-signal.js'

/**
 * Hands a `recording` event to the durable outbox (`outbox.enqueue`). Called inside a transaction
 * of the index's database: when the outbox uses the same database, storing the event and marking
 * the leg announced are one commit, so a leg is announced exactly once whatever kills the gateway.
 * Synchronous for that reason. The event carries its natural key (`event.key`, the same for every
 * announcement of one leg): an outbox on another database, where a crash between the two commits
 * announces again, stores the repeat once (it was passed beside the event, and the composition dropped it).
 */
export type Announce = (event: CallEvent) => void

export interface RecordingServiceOptions<I extends RecordingIndex = RecordingIndex> {
  config: Config
  index: I
  source: RecordingSource
  pool: FfmpegPool
  announce: Announce
  log: FastifyBaseLogger
  /** How often pending work is looked at, ms (default 500). */
  pollMs?: number
  /** Least time between two looks for files (one XAPI listing or folder read each), ms (default 1000). */
  lookEveryMs?: number
  timing?: Partial<LegTiming>
  /** Whether an undelivered event still links to a file (retention keeps it); see RetentionOptions. */
  inUse?: (fileName: string) => boolean
  /** The base of links when PUBLIC_URL is not set (default `http://HOST:PORT`). */
  publicUrl?: () => string
  /**
   * Whether this process looks for the files of ended legs (default always). Replicas: only the
   * stream holder does; every replica converts what the shared index holds (claimed once).
   */
  looks?: () => boolean
  /** How long a claimed conversion is this replica's without a renewal, ms (default 30 s; renewed every third of it). */
  claimMs?: number
  /** Delays before each new try of a failed conversion, ms (default 1 min … 1 h); then it is marked failed. */
  convertRetryMs?: readonly number[]
}

/** The live call model, asked whether a conversation may still go on (its recording waits for its final end). */
export interface ConversationsInProgress {
  conversationMayContinue: (callid: number, user: string, link: number) => boolean
}

export const DEFAULT_TIMING: LegTiming = { settleMs: 3_000, giveUpMs: DEFAULT_RECORDINGS_GIVE_UP_MS }
const FETCH_RETRY_MS = [1_000, 5_000, 30_000, 120_000, 600_000]
/** Files are matched to legs near their time: refs recorded this long before the oldest leg cannot be among them. */
const CLAIMED_MARGIN_MS = 3_600_000
/** Ended legs kept in memory while the index cannot be written (database away, disk full). */
const MAX_UNWRITTEN = 10_000

export class RecordingService<I extends RecordingIndex = RecordingIndex> {
  readonly index: I
  readonly mp3Dir: string
  private readonly timing: LegTiming
  private readonly wavDir: string
  private readonly failedDir: string
  private readonly foundBefore = new Map<string, number>()
  private readonly inFlight = new Set<number>()
  private readonly fetchFailures = new Map<number, { count: number, retryAt: number }>()
  private readonly convertFailures: RetryCounts
  /** Failed conversions scheduled to be tried again (metrics: `outcome="retry"`). */
  retries = 0
  private readonly jobs = new Set<Promise<void>>()
  /** Ended legs whose write failed, written again on the next passes (in order). */
  private readonly unwritten: EndedLeg[] = []
  private timer: NodeJS.Timeout | null = null
  private lastLook = 0
  private lastRenew = 0
  private readonly claimMs: number
  private cron: Cron | null = null
  private ticking: Promise<void> | null = null
  private again = false
  private stopped = false
  private calls: ConversationsInProgress | null = null
  /** Notified after each pass (a job's end starts one) and at stop: what may change idle(). */
  private readonly passes = new ChangeSignal()

  constructor (private readonly opts: RecordingServiceOptions<I>) {
    this.index = opts.index
    this.claimMs = opts.claimMs ?? 30_000
    this.convertFailures = new RetryCounts(opts.convertRetryMs ?? CONVERT_RETRY_MS)
    this.mp3Dir = opts.config.recordings.mp3Dir
    this.timing = { ...DEFAULT_TIMING, giveUpMs: opts.config.recordings.giveUpMs, ...opts.timing }
    this.wavDir = path.join(opts.config.dataDir, 'recordings-wav')
    this.failedDir = path.join(opts.config.dataDir, 'recordings-failed')
  }

  /** Resumes unfinished work, runs retention once, schedules it, and starts looking. */
  async start (): Promise<void> {
    // An unusable MP3_DIR (a full disk, a file in its place) fails each conversion, not the gateway.
    await mkdir(this.mp3Dir, { recursive: true }).catch((err: unknown) => {
      this.opts.log.error({ err, mp3Dir: this.mp3Dir }, 'recordings: MP3_DIR cannot be created; conversions fail until it is fixed')
    })
    await this.retention().catch((err: unknown) => this.opts.log.error({ err }, 'recordings: retention clean-up failed'))
    const expr = this.opts.config.recordings.retentionCron
    try {
      this.cron = new Cron(expr, { protect: true }, async () => { await this.retention().catch((err: unknown) => this.opts.log.error({ err }, 'recordings: retention clean-up failed')) })
    } catch (err) {
      this.opts.log.error({ cron: expr }, `recordings: RETENTION_CRON "${expr}" is not a cron expression (${err instanceof Error ? err.message : String(err)}); retention runs only at start-up`)
    }
    // Claims a killed run of this same consumer left (SQLite's one process) are this run's to redo.
    await this.index.releaseClaims()
    // What failed for good (MP3_DIR away for hours) is tried once more at every start.
    const retried = await this.index.retryFailed()
    if (retried > 0) this.opts.log.warn({ recordings: retried }, 'recordings: trying failed conversions again')
    this.timer = setInterval(() => { this.kick() }, this.opts.pollMs ?? 500)
    this.timer.unref()
    const waiting = (await this.index.legsIn('waiting')).length
    const pending = (await this.index.recordingsIn('pending')).length
    if (waiting + pending > 0) this.opts.log.info({ waiting, pending }, 'recordings: resuming unfinished work')
    this.kick()
  }

  /** The unguessable link of the MP3 converted from XAPI recording `xapiId`, or null. */
  linkForXapiId (xapiId: number): Maybe<string | null> {
    return mapMaybe(this.index.byXapiId(xapiId), (rec) => rec === undefined ? null : this.link(rec))
  }

  /** Conversion counts, MP3 bytes on disk and held legs, read by the metrics at scrape time. */
  stats (): { pending: number, done: number, failed: number, bytes: number, held: number } {
    return this.index.stats()
  }

  /**
   * The live call model: a leg whose conversation may still go on (a blind transfer from it is
   * unresolved, or the call came back to it) is not settled until its final call-ended event.
   */
  followCalls (calls: ConversationsInProgress): void {
    this.calls = calls
  }

  /** The call model reports a finished extension leg: look for its recording. Idempotent. */
  onLegEnded (leg: EndedLeg): Maybe<void> {
    if (this.stopped) return
    return mapMaybe(this.index.addLeg(leg), (result) => { this.added(leg, result) })
  }

  private added (leg: EndedLeg, result: Awaited<ReturnType<RecordingIndex['addLeg']>>): void {
    if (result === 'late') this.opts.log.warn({ id: leg.legacyId, dn: leg.dn }, 'recordings: a leg ended again after its recording was announced; its later part gets a recording event of its own')
    else if (result !== 'replay') this.opts.log.debug({ leg: legKeyOf(leg), result }, 'recordings: looking for the files of an ended leg')
    if (leg.participantIds.length === 0) this.opts.log.warn({ id: leg.legacyId, dn: leg.dn }, 'recordings: the call model does not know the participant of this leg; files near it will be held, not announced')
    this.kick()
  }

  /** The call model's event sink: ended events of answered legs start the search. */
  onCallEvent (e: CallEvent): void {
    const leg = legFromCallEvent(e)
    if (leg === null) return
    // The index cannot be written (a full disk, PostgreSQL away): the event is safe in the outbox;
    // never throw into the call model. /readyz, the log and /metrics show the failed write.
    const failed = (err: unknown): void => {
      if (!isStorageError(err)) throw err
      this.index.health.failed('recordings index', err)
      if (this.unwritten.length < MAX_UNWRITTEN) this.unwritten.push(leg)
    }
    try {
      const added = this.onLegEnded(leg)
      if (added instanceof Promise) {
        added.catch((err: unknown) => {
          try { failed(err) } catch { this.opts.log.error({ err, id: leg.legacyId }, 'recordings: could not record an ended leg') }
        })
      }
    } catch (err) {
      failed(err)
    }
  }

  /** Runs one pass now (and another after it if asked meanwhile). Resolves when the pass is over. */
  async kick (): Promise<void> {
    if (this.stopped) return
    if (this.ticking !== null) { this.again = true; return await this.ticking }
    this.ticking = (async () => {
      do {
        this.again = false
        await this.pass().catch((err: unknown) => this.opts.log.warn({ err }, 'recordings: pass failed; trying again shortly'))
        this.passes.notify()
      } while (this.again && !this.stopped)
    })().finally(() => { this.ticking = null })
    return await this.ticking
  }

  /**
   * True once no leg waits for its files, no conversion is pending or running and every converted leg
   * is announced; false after `timeoutMs`, or once stopped with work left (tests, the CLI). Looked at
   * after each pass (a finished conversion starts one) and at stop, not polled.
   */
  async idle (timeoutMs = 30_000): Promise<boolean> {
    return await this.passes.until(async () => this.jobs.size === 0 && (await this.index.legsIn('waiting')).length === 0 &&
      (await this.index.recordingsIn('pending')).length === 0 && (await this.index.legsIn('converting')).length === 0, timeoutMs, () => this.stopped)
  }

  /**
   * Graceful shutdown: running conversions get `graceMs`; queued work stays pending and its claims
   * are given back, so another replica (or the next start) converts it at once.
   */
  async stop (graceMs = 10_000): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.cron?.stop()
    await this.ticking
    await this.opts.pool.drain(graceMs)
    await Promise.allSettled([...this.jobs])
    try {
      await this.index.releaseClaims()
    } catch (err) {
      this.opts.log.warn({ err }, 'recordings: could not give back the claims of unfinished conversions; they run out by themselves')
    }
    this.passes.notify()
  }

  async retention (): Promise<RetentionResult> {
    const { config } = this.opts
    const result = await runRetention(this.index, this.mp3Dir, {
      retentionDays: config.recordings.retentionDays,
      inUse: this.opts.inUse,
      maxEventAgeMs: config.webhooks.maxAgeMs,
      extraDirs: [this.failedDir]
    })
    this.opts.log.info({ ...result, retentionDays: config.recordings.retentionDays },
      `recordings: retention removed ${result.deletedFiles} file(s), freed ${formatBytes(result.freedBytes)}`)
    return result
  }

  /** The public link of a converted file. */
  link (rec: Pick<RecordingRow, 'token' | 'fileName'>): string {
    const { config } = this.opts
    const base = config.publicUrl !== '' ? config.publicUrl : (this.opts.publicUrl?.() ?? `http://${config.host}:${config.port}`)
    return recordingUrl(base, rec.token, rec.fileName)
  }

  private async pass (): Promise<void> {
    while (this.unwritten.length > 0) {
      await this.index.addLeg(this.unwritten[0]) // still failing: this pass stops here, the next one tries again
      this.unwritten.shift()
    }
    if (this.opts.looks?.() ?? true) await this.lookForFiles()
    await this.renewClaims()
    await this.startConversions()
    await this.announceReady()
  }

  /** Conversions still running stay this replica's (a claim runs out only when its replica is gone). */
  private async renewClaims (): Promise<void> {
    if (this.inFlight.size === 0 || Date.now() - this.lastRenew < this.claimMs / 3) return
    this.lastRenew = Date.now()
    await this.index.renewClaims([...this.inFlight], this.claimMs)
  }

  private async lookForFiles (): Promise<void> {
    if (Date.now() - this.lastLook < (this.opts.lookEveryMs ?? 1_000)) return
    const legs = await this.index.legsIn('waiting')
    if (legs.length === 0) return
    this.lastLook = Date.now()
    const windows: LegWindow[] = legs.map((l) => ({ legKey: l.legKey, dn: l.dn, callid: l.callid, participantIds: l.participantIds, startedAt: l.startedAt, endedAt: l.endedAt }))
    const claimed = await this.index.claimedRefs(Math.min(...legs.map((l) => l.startedAt)) - CLAIMED_MARGIN_MS)
    const looks = await this.opts.source.look(windows, (ref) => claimed.has(ref))
    const now = Date.now()
    for (const leg of legs) {
      if (this.mayContinue(leg)) continue
      const look: LegLook = looks.get(leg.legKey) ?? emptyLook()
      const before = this.foundBefore.get(leg.legKey) ?? -1
      this.foundBefore.set(leg.legKey, look.files.length)
      const decision = decideLeg(leg.endedAt, now, look.files.length, before, look.incomplete, this.timing, look.unidentified.length)
      if (decision === 'wait') continue
      this.foundBefore.delete(leg.legKey)
      if (decision === 'held') {
        await this.index.setLegState(leg.legKey, 'held')
        this.opts.log.warn({ id: leg.legacyId, dn: leg.dn, files: look.unidentified },
          'recordings: held: files near this leg carry no participant id that identifies them as its own; no recording event sent (see gateway_recordings_held)')
        continue
      }
      if (look.unidentified.length > 0) this.opts.log.warn({ id: leg.legacyId, dn: leg.dn, files: look.unidentified }, 'recordings: files near this leg could not be identified and are not part of its recording')
      const rows = await this.index.settleLeg(leg.legKey, decision === 'settle' ? look.files : [])
      if (rows.length > 0) this.opts.log.info({ id: leg.legacyId, files: rows.length }, 'recordings: found the recording of a leg')
      else this.opts.log.debug({ id: leg.legacyId }, 'recordings: leg was not recorded')
    }
  }

  /** The leg's conversation may still go on (see followCalls): its final end is still to come. */
  private mayContinue (leg: LegRow): boolean {
    const parsed = parseLegacyCallId(leg.legacyId)
    return this.calls !== null && parsed !== null && this.calls.conversationMayContinue(leg.callid, leg.dn, parsed.link)
  }

  /** Claims pending conversions (each runs on one replica) up to twice the pool's size. */
  private async startConversions (): Promise<void> {
    if (this.stopped) return
    const room = this.opts.config.recordings.concurrency * 2 - this.inFlight.size
    if (room <= 0) return
    const now = Date.now()
    for (const rec of await this.index.claimPending(room, this.claimMs)) {
      if (this.stopped) { await this.index.releaseClaims([rec.id]); continue }
      if (this.inFlight.has(rec.id)) continue
      const retryAt = this.fetchFailures.get(rec.id)?.retryAt ?? 0
      if (retryAt > now) { await this.index.releaseClaims([rec.id], retryAt - now); continue }
      this.inFlight.add(rec.id)
      // A failed index write (disk full) must not become an unhandled rejection that ends the
      // process: the recording stays pending and is converted again on a later pass.
      const job = this.convert(rec).catch((err: unknown) => {
        if (isStorageError(err)) this.index.health.failed('recordings index', err)
        this.opts.log.error({ file: rec.fileName, err: err instanceof Error ? err.message : String(err) }, 'recordings: could not record a conversion; it is tried again later')
      }).finally(() => {
        this.inFlight.delete(rec.id)
        this.jobs.delete(job)
        this.kick().catch(() => {})
      })
      this.jobs.add(job)
    }
  }

  private async convert (rec: RecordingRow): Promise<void> {
    const { log } = this.opts
    let wav
    try {
      wav = await this.opts.source.fetchWav(rec, this.wavDir)
      this.fetchFailures.delete(rec.id)
      if (wav.temporary) await this.index.setWavPath(rec.id, wav.path)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      const failures = (this.fetchFailures.get(rec.id)?.count ?? 0) + 1
      if (err instanceof TransientSourceError && failures <= FETCH_RETRY_MS.length) {
        this.fetchFailures.set(rec.id, { count: failures, retryAt: Date.now() + FETCH_RETRY_MS[failures - 1] })
        await this.index.releaseClaims([rec.id], FETCH_RETRY_MS[failures - 1])
        log.warn({ file: rec.fileName, attempt: failures }, `recordings: ${reason}; will retry`)
        return
      }
      this.fetchFailures.delete(rec.id)
      await this.index.markFailed(rec.id, reason)
      log.error({ file: rec.fileName }, `recordings: cannot fetch the WAV: ${reason}`)
      return
    }
    try {
      // MP3_DIR may have come back (a remount, a file removed from its place) since the start.
      await mkdir(this.mp3Dir, { recursive: true }).catch(() => {})
      const result = await this.opts.pool.convert(wav.path, path.join(this.mp3Dir, rec.fileName))
      this.convertFailures.clear(rec.id)
      await this.index.markConverted(rec.id, result.bytes)
      if (wav.temporary) await unlink(wav.path).catch(() => {})
      log.info({ file: rec.fileName, bytes: result.bytes, ms: Math.round(result.elapsedMs) }, 'recordings: converted to MP3')
    } catch (err) {
      if (err instanceof PoolClosedError || this.stopped) return // stays pending for the next start
      const reason = err instanceof ConversionError ? err.reason : String(err)
      if (await this.retryLater(rec, reason)) return
      const kept = wav.temporary ? await this.keepFailed(wav.path) : wav.path
      await this.index.markFailed(rec.id, `${reason} (WAV kept at ${kept})`)
      if (kept !== wav.path) await this.index.setWavPath(rec.id, kept)
      log.error({ file: rec.fileName, wav: kept, attempts: this.convertFailures.schedule.length + 1 },
        `recordings: conversion failed for good: ${reason}; it is tried again at the next start (fix MP3_DIR, then restart)`)
    }
  }

  /** Never lost data: a failed conversion stays pending, its claim held back for the schedule's next delay. */
  private async retryLater (rec: RecordingRow, reason: string): Promise<boolean> {
    const next = this.convertFailures.next(rec.id)
    if (next === null) return false
    this.retries++
    await this.index.releaseClaims([rec.id], next.delayMs)
    this.opts.log.warn({ file: rec.fileName, ...next }, `recordings: conversion failed: ${reason}; will retry`)
    return true
  }

  /** A downloaded WAV ffmpeg could not read is kept for inspection (until retention). */
  private async keepFailed (wavPath: string): Promise<string> {
    await mkdir(this.failedDir, { recursive: true })
    const target = path.join(this.failedDir, path.basename(wavPath))
    return await rename(wavPath, target).then(() => target, () => wavPath)
  }

  private async announceReady (): Promise<void> {
    for (const leg of await this.index.legsIn('converting')) {
      const recs = await this.index.recordingsOf(leg.legKey)
      if (recs.some((r) => r.state === 'pending')) continue
      await this.announce(leg, recs.filter((r) => r.state === 'done'))
    }
  }

  /** Announces a leg once, whichever replica gets there first (the index decides). */
  private async announce (leg: LegRow, done: RecordingRow[]): Promise<void> {
    if (done.length === 0) {
      await this.index.setLegState(leg.legKey, 'failed')
      this.opts.log.error({ id: leg.legacyId }, 'recordings: no file of this leg could be converted; no recording event sent')
      return
    }
    const event = recordingEvent(leg, done.map((r) => this.link(r)), this.opts.config.webhooks.recordingFullInfo, Date.now())
    if (!await this.index.announce(leg.legKey, () => { this.opts.announce(event) })) return
    this.opts.log.info({ id: leg.legacyId, files: done.length }, 'recordings: recording event queued')
  }
}

export interface CreateRecordingServiceOptions<I extends RecordingIndex = RecordingIndex> {
  config: Config
  /**
   * Builds the index (store/sqlite-recording-index.ts in the gateway: on the outbox's database, so an
   * announcement and its event commit together). Called only when recordings are on.
   */
  index: () => I
  xapi: XapiApi
  announce: Announce
  log: FastifyBaseLogger
  inUse?: (fileName: string) => boolean
  publicUrl?: () => string
  pollMs?: number
  lookEveryMs?: number
  timing?: Partial<LegTiming>
  /** Folder source: ms without writes before a WAV counts as complete (default 2000). */
  stableMs?: number
  looks?: () => boolean
  claimMs?: number
  convertRetryMs?: readonly number[]
}

/**
 * The service as configured: `RECORDINGS_SOURCE` picks the source; `index` builds the index.
 * Null when recordings are off. Call `start()` after building it.
 */
export function createRecordingService<I extends RecordingIndex> (o: CreateRecordingServiceOptions<I>): RecordingService<I> | null {
  const rc = o.config.recordings
  if (rc.source === 'off') return null
  const source: RecordingSource = rc.source === 'dir' ? new DirRecordingSource(rc.dir, o.stableMs) : new XapiRecordingSource(o.xapi)
  const { index, xapi: _xapi, stableMs: _stableMs, ...rest } = o
  const pool = new FfmpegPool({ ffmpegPath: resolveFfmpegPath(rc.ffmpegPath), concurrency: rc.concurrency, bitrateKbps: rc.bitrateKbps })
  return new RecordingService({ ...rest, timing: { settleMs: rc.settleMs, ...o.timing }, index: index(), source, pool })
}
