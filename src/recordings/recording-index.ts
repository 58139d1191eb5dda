// The recordings index (the port): which call legs ended and await their files, which WAV files
// belong to which leg, where each conversion stands, and the unguessable token of every MP3. Its
// adapters: store/sqlite-recording-index.ts (the gateway's one SQLite file next to the outbox: the
// announcement and the outbox row are one commit) and store/pg/pg-recording-index.ts (PostgreSQL,
// shared by replicas: conversions are claimed with a lease on the database's clock, so each runs
// once). A gateway killed at any moment resumes where it was: a leg that ended is looked for again,
// a conversion that was running is done again (by another replica once its claim runs out).
import type { StorageHealth } from '../storage-health.js'

/** A call leg of a recorded extension that ended (what the call model hands over). */
export interface EndedLeg {
  callid: number
  chid: string
  /** Legacy call id of the leg (`YYMMDDhhmmss_N-L`), the recording event's `id`. */
  legacyId: string
  /** The extension whose leg it was. */
  dn: string
  /**
   * Call Control participant ids of the conversation's extension leg(s) (what 3CX stores as
   * `RefParticipantId`): the identity its files are matched by. Empty: not known, files are held.
   */
  participantIds: number[]
  /** ms since the epoch: when the leg appeared / connected, and when it was removed. */
  startedAt: number
  endedAt: number
  callerName?: string
  /** The leg's call-ended event fields (webhooks.md §1), for RECORDING_FULL_INFO. */
  endedEvent?: Record<string, unknown>
}

/** `held`: files near the leg could not be identified as its own; nothing is announced (docs/recordings.md). */
export type LegState = 'waiting' | 'converting' | 'announced' | 'unrecorded' | 'failed' | 'held'
export type RecordingState = 'pending' | 'done' | 'failed'

export interface LegRow extends Omit<EndedLeg, 'callerName' | 'endedEvent'> {
  legKey: string
  callerName: string | null
  endedEvent: Record<string, unknown> | null
  state: LegState
}

export interface RecordingRow {
  id: number
  legKey: string
  /** Where the WAV came from: `dir:<path>` or `xapi:<recId>`; unique, so a file is claimed once. */
  sourceRef: string
  /** Order of the file within its leg, 1-based. */
  seq: number
  /** `<legacy id>-<n>.mp3` */
  fileName: string
  token: string
  wavPath: string | null
  xapiId: number | null
  recordedAt: number
  state: RecordingState
  error: string | null
  bytes: number | null
}

/** A WAV file found for a leg, in recording order. */
export interface FoundRecording {
  sourceRef: string
  recordedAt: number
  wavPath: string | null
  xapiId: number | null
}

/**
 * Stable key of a leg: one conversation of one extension under one legacy id (the id carries the
 * time prefix, so it survives PBX restarts). A conversation taken back after a blind transfer ends
 * twice under the same key: the second end extends the first.
 */
export function legKeyOf (leg: Pick<EndedLeg, 'legacyId' | 'dn'>): string {
  return `${leg.legacyId}/${leg.dn}`
}

/** The SQLite adapter answers at once, the PostgreSQL one with a promise: callers await. */
export type Maybe<T> = T | Promise<T>

/** Applies `fn` to a value that may be a promise, staying synchronous when it is not. */
export function mapMaybe<T, U> (v: Maybe<T>, fn: (v: T) => U): Maybe<U> {
  return v instanceof Promise ? v.then(fn) : fn(v)
}

/** What addLeg did with an ended leg. */
export type AddLegResult = 'added' | 'extended' | 'replay' | 'late'

export interface RecordingIndex {
  /** The storage health shared by every writer of the database (failed writes are reported there). */
  readonly health: StorageHealth
  /**
   * Records an ended leg to look for. A later end of a leg still waiting (the conversation was taken
   * back after a blind transfer) extends it: its participants, its end and its ended event. A later
   * end of a leg already settled becomes a leg of its own (`late`); an end seen before is a `replay`.
   */
  addLeg(leg: EndedLeg, now?: number): Maybe<AddLegResult>
  legsIn(state: LegState): Maybe<LegRow[]>
  leg(legKey: string): Maybe<LegRow | undefined>
  /** The sourceRefs of the WAVs recorded since `since` that already belong to a leg: a file is claimed once. */
  claimedRefs(since: number): Maybe<Set<string>>
  /**
   * The leg's files are all there: one row per file, numbered after the files the same legacy id
   * already has, each with its own token. No files: the leg was not recorded. Only a leg still
   * `waiting` is settled (by whichever replica comes first); otherwise nothing happens ([]).
   */
  settleLeg(legKey: string, files: readonly FoundRecording[]): Maybe<RecordingRow[]>
  /** Sets a leg's state (`held`, `failed`; settleLeg and announce make the others). */
  setLegState(legKey: string, state: LegState, now?: number): Maybe<void>
  recordingsOf(legKey: string): Maybe<RecordingRow[]>
  /** Counts by state, the bytes of converted MP3s and the legs held unidentified (metrics; may lag a second). */
  stats(): { pending: number, done: number, failed: number, bytes: number, held: number }
  recordingsIn(state: RecordingState): Maybe<RecordingRow[]>
  /**
   * Takes up to `limit` pending recordings nobody else converts (no claim, or one that ran out), for
   * `leaseMs` on the database's clock: each conversion runs on one replica at a time.
   */
  claimPending(limit: number, leaseMs: number): Maybe<RecordingRow[]>
  /** Extends this consumer's claims on conversions still running. */
  renewClaims(ids: readonly number[], leaseMs: number): Maybe<void>
  /**
   * Gives claims back: `ids` (default every claim of this consumer); with `delayMs` nobody takes them
   * again before it has passed (a WAV that cannot be fetched yet).
   */
  releaseClaims(ids?: readonly number[], delayMs?: number): Maybe<void>
  setWavPath(id: number, wavPath: string): Maybe<void>
  markConverted(id: number, bytes: number, now?: number): Maybe<void>
  markFailed(id: number, reason: string, now?: number): Maybe<void>
  /**
   * Failed recordings of legs not announced (their leg `failed`) become pending again and their
   * legs `converting`, so a restart tries what failed for want of MP3_DIR again. Returns how many.
   */
  retryFailed(): Maybe<number>
  /**
   * Marks a leg `converting` as announced and, only if this call did so, runs `enqueue` (SQLite: in
   * the same transaction). Several replicas may try: one enqueues. Returns whether this one did.
   */
  announce(legKey: string, enqueue: () => void, now?: number): Maybe<boolean>
  /** The converted MP3 made from XAPI recording `xapiId` (`recordings.list.get` links to it). */
  byXapiId(xapiId: number): Maybe<RecordingRow | undefined>
  /** A served file: the token and the name must both match a converted recording. */
  byToken(token: string, fileName: string): Maybe<RecordingRow | undefined>
  byFileName(fileName: string): Maybe<RecordingRow | undefined>
  /** The `limit` converted recordings recorded last, newest first. */
  latest(limit: number): Maybe<RecordingRow[]>
  /** Recordings (any state except pending) recorded before `cutoff`, oldest first, with when their leg was announced. */
  recordedBefore(cutoff: number): Maybe<Array<RecordingRow & { announcedAt: number | null }>>
  /** Deletes the row; true only for the one caller that deleted it (that one removes the file). */
  deleteRecording(id: number): Maybe<boolean>
  /** Legs that ended before `cutoff` and have no recording row left. */
  deleteEmptyLegsBefore(cutoff: number): Maybe<number>
  /** Every file name the index knows (retention keeps these, deletes strays). */
  fileNames(): Maybe<Set<string>>
  close(): Maybe<void>
}
