// Which WAV belongs to which ended call leg, and when a leg's set of files is complete. Pure
// functions: the sources feed them what they see, the service acts on the answer.

/** What the matcher needs to know of a leg. */
export interface LegWindow {
  legKey: string
  dn: string
  callid: number
  participantId: number
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

function overlapMs (aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  return Math.min(aEnd, bEnd) - Math.max(aStart, bStart)
}

/**
 * Assigns XAPI recording rows to legs: `RefParticipantId` (or a From/To participant id) of the leg
 * on the leg's DN first; otherwise the leg on the same DN whose time overlaps the recording most.
 * Rows already claimed and rows of no leg are left out. Each leg's rows come in recording order.
 */
export function matchXapiRows (rows: readonly XapiRecordingRow[], legs: readonly LegWindow[], claimed: (ref: string) => boolean): Map<string, XapiRecordingRow[]> {
  const out = new Map<string, XapiRecordingRow[]>()
  for (const row of rows) {
    if (claimed(xapiRef(row.Id))) continue
    const start = Date.parse(row.StartTime)
    const end = Date.parse(row.EndTime)
    if (Number.isNaN(start) || Number.isNaN(end)) continue
    const dns = [row.FromDn, row.ToDn]
    const near = legs.filter((l) => dns.includes(l.dn) && overlapMs(start, end, l.startedAt - MATCH_SLACK_MS, l.endedAt + MATCH_SLACK_MS) >= 0)
    const participants = [row.RefParticipantId, row.FromIdParticipant, row.ToIdParticipant]
    const byParticipant = near.find((l) => l.participantId === row.RefParticipantId) ??
      (isSet(row.RefParticipantId) ? undefined : near.find((l) => participants.includes(l.participantId)))
    const leg = byParticipant ?? bestOverlap(near, start, end)
    if (leg === undefined) continue
    const list = out.get(leg.legKey) ?? []
    list.push(row)
    out.set(leg.legKey, list)
  }
  for (const list of out.values()) list.sort((a, b) => Date.parse(a.StartTime) - Date.parse(b.StartTime) || a.Id - b.Id)
  return out
}

function isSet (n: number | null | undefined): n is number {
  return typeof n === 'number' && n > 0
}

/** The leg overlapping [start, end] most (without slack), only when the overlap is positive. */
function bestOverlap (legs: readonly LegWindow[], start: number, end: number): LegWindow | undefined {
  let best: LegWindow | undefined
  let bestMs = 0
  for (const l of legs) {
    const ms = overlapMs(start, end, l.startedAt, l.endedAt)
    if (ms > bestMs || (ms === bestMs && ms > 0 && best !== undefined && l.endedAt < best.endedAt)) { best = l; bestMs = ms }
  }
  return best
}

export function xapiRef (id: number): string {
  return `xapi:${id}`
}

export function dirRef (file: string): string {
  return `dir:${file}`
}

/** `<name>_<number>_<yyyyMMddHHmmss>_<callid>.wav` → its callid and time stamp text; null otherwise. */
export function parseDirFileName (name: string): { callid: number, stamp: string } | null {
  const m = /_(\d{14})_(\d+)\.wav$/i.exec(name)
  if (m === null) return null
  return { callid: Number(m[2]), stamp: m[1] }
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

export type LegDecision = 'wait' | 'settle' | 'unrecorded'

export interface LegTiming {
  /** After the leg ended, wait at least this long for more files (3CX writes them up to ~2 s later). */
  settleMs: number
  /** After the leg ended, give up looking when nothing was found by then. */
  giveUpMs: number
}

/**
 * What to do with a leg after a look: settle once its files are complete, the settle time has
 * passed and the last look found no new file; declare it unrecorded when nothing came in time.
 */
export function decideLeg (endedAt: number, now: number, found: number, foundBefore: number, incomplete: number, timing: LegTiming): LegDecision {
  const since = now - endedAt
  if (found === 0) return since >= timing.giveUpMs ? 'unrecorded' : 'wait'
  if (incomplete > 0) return since >= timing.giveUpMs * 4 ? 'settle' : 'wait'
  return since >= timing.settleMs && found === foundBefore ? 'settle' : 'wait'
}
