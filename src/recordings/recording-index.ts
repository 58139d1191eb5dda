// The recordings index (the port): which call legs ended and await their files, which WAV files
// belong to which leg, where each conversion stands, and the unguessable token of every MP3. Its
// adapter, store/sqlite-recording-index.ts, keeps it in the gateway's one SQLite file next to the
// outbox, so a gateway killed at any moment resumes where it was: a leg that ended is looked for
// again, a conversion that was running is done again, and the announcement and the outbox row are
// one commit (atomically()).
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

/** What addLeg did with an ended leg. */
export type AddLegResult = 'added' | 'extended' | 'replay' | 'late'

export interface RecordingIndex {
  /** The storage health shared by every writer of the file (failed writes are reported there). */
  readonly health: StorageHealth
  /**
   * Records an ended leg to look for. A later end of a leg still waiting (the conversation was taken
   * back after a blind transfer) extends it: its participants, its end and its ended event. A later
   * end of a leg already settled becomes a leg of its own (`late`); an end seen before is a `replay`.
   */
  addLeg(leg: EndedLeg, now?: number): AddLegResult
  legsIn(state: LegState): LegRow[]
  leg(legKey: string): LegRow | undefined
  /** Whether a WAV (by its sourceRef) already belongs to a leg: a file is claimed once. */
  isClaimed(sourceRef: string): boolean
  /**
   * The leg's files are all there: one row per file, numbered after the files the same legacy id
   * already has, each with its own token. No files: the leg was not recorded.
   */
  settleLeg(legKey: string, files: readonly FoundRecording[]): RecordingRow[]
  setLegState(legKey: string, state: LegState, now?: number): void
  recordingsOf(legKey: string): RecordingRow[]
  /** Counts by state, the bytes of converted MP3s and the legs held unidentified (for metrics). */
  stats(): { pending: number, done: number, failed: number, bytes: number, held: number }
  recordingsIn(state: RecordingState): RecordingRow[]
  setWavPath(id: number, wavPath: string): void
  markConverted(id: number, bytes: number, now?: number): void
  markFailed(id: number, reason: string, now?: number): void
  /** The converted MP3 made from XAPI recording `xapiId` (`recordings.list.get` links to it). */
  byXapiId(xapiId: number): RecordingRow | undefined
  /** A served file: the token and the name must both match a converted recording. */
  byToken(token: string, fileName: string): RecordingRow | undefined
  byFileName(fileName: string): RecordingRow | undefined
  /** The `limit` converted recordings recorded last, newest first. */
  latest(limit: number): RecordingRow[]
  /** Recordings (any state except pending) recorded before `cutoff`, oldest first, with when their leg was announced. */
  recordedBefore(cutoff: number): Array<RecordingRow & { announcedAt: number | null }>
  deleteRecording(id: number): void
  /** Legs that ended before `cutoff` and have no recording row left. */
  deleteEmptyLegsBefore(cutoff: number): number
  /** Every file name the index knows (retention keeps these, deletes strays). */
  fileNames(): Set<string>
  /** Runs `fn` in one transaction (the outbox's, when it shares the file: an announcement and its event commit together). */
  atomically<T>(fn: () => T): T
  close(): void
}
