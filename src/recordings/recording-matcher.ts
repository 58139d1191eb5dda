// Which WAV belongs to which ended call leg, and when a leg's set of files is complete. Pure
// functions: the sources feed them what they see, the service acts on the answer.

/** What the matcher needs to know of a leg. */
export interface LegWindow {
  legKey: string
  dn: string
  callid: number
  /** The conversation's Call Control participant ids; empty when the call model did not know them. */
  participantIds: readonly number[]
  startedAt: number
  endedAt: number
}

/** The `Pbx.Recording` fields used for matching (3cx-v20.md §4.11). */
export interface XapiRecordingRow {
  Id: number
  StartTime: string
  EndTime: string
  FromDn?: string | null
  ToDn?: string | null
  FromIdParticipant?: number | null
  ToIdParticipant?: number | null
  RefParticipantId?: number | null
}

/**
 * Slack around a leg's times, ms. The gateway's clock, the PBX's clock and the moment 3CX closes
 * the file differ by a few seconds; participant ids restart with the PBX, so even a participant
 * match must fall near the leg.
 */
export const MATCH_SLACK_MS = 120_000

/** Which files are whose: files identified as a leg's own, and files near a leg that nothing identifies. */
export interface MatchResult<T> {
  matched: Map<string, T[]>
  /** Per leg: files on its extension, near it in time, that carry no identity it could be matched by. */
  unidentified: Map<string, T[]>
}

function overlapMs (aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  return Math.min(aEnd, bEnd) - Math.max(aStart, bStart)
}

function push<T> (m: Map<string, T[]>, key: string, v: T): void {
  const list = m.get(key)
  if (list === undefined) m.set(key, [v])
  else list.push(v)
}

/**
 * Assigns XAPI recording rows to legs by identity only: the row's `RefParticipantId` (else its
 * From/To participant id on that side's DN) must be one of the leg's participants, on the leg's DN
 * and near its time (participant ids restart with the PBX). Time overlap alone never assigns a row:
 * an extension with overlapping calls (a queue agent with call waiting, a transfer) would get
 * another call's audio. A row near a leg that carries no usable identity is reported as
 * unidentified for that leg. Claimed rows are skipped; each leg's rows come in recording order.
 */
export function matchXapiRows (rows: readonly XapiRecordingRow[], legs: readonly LegWindow[], claimed: (ref: string) => boolean): MatchResult<XapiRecordingRow> {
  const matched = new Map<string, XapiRecordingRow[]>()
  const unidentified = new Map<string, XapiRecordingRow[]>()
  for (const row of rows) {
    if (claimed(xapiRef(row.Id))) continue
    const start = Date.parse(row.StartTime)
    const end = Date.parse(row.EndTime)
    if (Number.isNaN(start) || Number.isNaN(end)) continue
    const near = legs.filter((l) => (l.dn === row.FromDn || l.dn === row.ToDn) && overlapMs(start, end, l.startedAt - MATCH_SLACK_MS, l.endedAt + MATCH_SLACK_MS) >= 0)
    const owners = isSet(row.RefParticipantId)
      ? near.filter((l) => l.participantIds.includes(row.RefParticipantId as number))
      : near.filter((l) => (l.dn === row.FromDn && isSet(row.FromIdParticipant) && l.participantIds.includes(row.FromIdParticipant)) ||
          (l.dn === row.ToDn && isSet(row.ToIdParticipant) && l.participantIds.includes(row.ToIdParticipant)))
    if (owners.length === 1) {
      push(matched, owners[0].legKey, row)
      continue
    }
    const identified = isSet(row.RefParticipantId) || isSet(row.FromIdParticipant) || isSet(row.ToIdParticipant)
    // Two owners (a participant id reused within the slack) or none: held for the legs it may be
    // of. A row that names a participant of no waiting leg belongs to another leg, unless a leg
    // here has no participant to compare with.
    for (const l of owners.length > 1 ? owners : near) {
      if (owners.length > 1 || !identified || l.participantIds.length === 0) push(unidentified, l.legKey, row)
    }
  }
  for (const list of matched.values()) list.sort((a, b) => Date.parse(a.StartTime) - Date.parse(b.StartTime) || a.Id - b.Id)
  return { matched, unidentified }
}

function isSet (n: number | null | undefined): n is number {
  return typeof n === 'number' && n > 0
}

export function xapiRef (id: number): string {
  return `xapi:${id}`
}

export function dirRef (file: string): string {
  return `dir:${file}`
}

/**
 * `<name>_<number>_<yyyyMMddHHmmss>_<callid>.wav` → its callid and time stamp text, and the
 * participant id when the name part ends in `-p<participant>-<n>` (the simulator's names); null
 * when it is not a recording's name.
 */
export function parseDirFileName (name: string): { callid: number, stamp: string, participantId: number | null } | null {
  const m = /_(\d{14})_(\d+)\.wav$/i.exec(name)
  if (m === null) return null
  const p = /^[^_]*-p(\d+)-\d+_/.exec(name)
  return { callid: Number(m[2]), stamp: m[1], participantId: p === null ? null : Number(p[1]) }
}

/** A WAV in the recordings folder as one look at it saw it. */
export interface DirFileSighting {
  path: string
  size: number
  mtimeMs: number
}

/**
 * Complete means: not written to for `stableMs` and the same size as the previous look (some file
 * systems keep coarse modification times).
 */
export function isStable (now: DirFileSighting, previous: DirFileSighting | undefined, nowMs: number, stableMs: number): boolean {
  return previous !== undefined && previous.size === now.size && previous.mtimeMs === now.mtimeMs &&
    now.size > 0 && nowMs - now.mtimeMs >= stableMs
}

export type LegDecision = 'wait' | 'settle' | 'unrecorded' | 'held'

export interface LegTiming {
  /** After the leg ended, wait at least this long for more files (3CX writes them up to ~2 s later). */
  settleMs: number
  /** After the leg ended, give up looking when nothing was found by then. */
  giveUpMs: number
}

/**
 * What to do with a leg after a look: settle once its files are complete, the settle time has
 * passed and the last look found no new file; when nothing of its own came in time, hold it if
 * files near it could not be identified (`unidentified`), else declare it unrecorded.
 */
export function decideLeg (endedAt: number, now: number, found: number, foundBefore: number, incomplete: number, timing: LegTiming, unidentified = 0): LegDecision {
  const since = now - endedAt
  if (found === 0) return since < timing.giveUpMs ? 'wait' : unidentified > 0 ? 'held' : 'unrecorded'
  if (incomplete > 0) return since >= timing.giveUpMs * 4 ? 'settle' : 'wait'
  return since >= timing.settleMs && found === foundBefore ? 'settle' : 'wait'
}
