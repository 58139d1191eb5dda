// RECORDINGS_SOURCE=dir: 3CX's recordings folder, `<root>/<extension>/<name>_<number>_<stamp>_<callid>.wav`.
// Only the folders of legs that are waiting are read, so a large archive costs nothing; a file
// counts once it has not changed for `stableMs` (3CX closes it up to ~2 s after hang-up).
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { RecordingRow } from './recording-index.js'
import { dirRef, isStable, parseDirFileName, type DirFileSighting, type LegWindow } from './recording-matcher.js'
import { emptyLook, type LegLook, type LocalWav, type RecordingSource } from './recording-source.js'

/** A file older than its leg by more than this is from another call with a reused callid. */
const OLDER_THAN_LEG_MS = 5_000

interface Candidate extends DirFileSighting { stamp: string, callid: number, participantId: number | null, stable: boolean }

export class DirRecordingSource implements RecordingSource {
  readonly kind = 'dir'
  private sightings = new Map<string, DirFileSighting>()

  constructor (private readonly root: string, private readonly stableMs = 2_000) {}

  /**
   * A file is a leg's when its folder is the leg's extension, the callid in its name is the leg's,
   * and, when the name carries a participant id, that id is one of the leg's. A file that could be
   * either of two legs (same extension and callid, no participant in the name) or that belongs to a
   * leg whose participants are not known is reported unidentified, never guessed.
   */
  async look (legs: readonly LegWindow[], claimed: (sourceRef: string) => boolean): Promise<Map<string, LegLook>> {
    const now = Date.now()
    const seen = new Map<string, DirFileSighting>()
    const out = new Map<string, LegLook>(legs.map((l) => [l.legKey, emptyLook()]))
    const byDn = new Map<string, LegWindow[]>()
    for (const l of legs) byDn.set(l.dn, [...(byDn.get(l.dn) ?? []), l])
    for (const [dn, group] of byDn) {
      const callids = new Set(group.map((l) => l.callid))
      for (const c of await this.candidates(dn, callids, claimed, now)) {
        seen.set(c.path, c)
        // A file older than its leg is from another call with a reused callid (a restarted PBX).
        const same = group.filter((l) => l.callid === c.callid && c.mtimeMs >= l.startedAt - OLDER_THAN_LEG_MS)
        const owners = c.participantId === null ? same : same.filter((l) => l.participantIds.includes(c.participantId as number))
        if (owners.length === 1 && (c.participantId !== null || owners[0].participantIds.length > 0 || same.length === 1)) {
          const look = out.get(owners[0].legKey) as LegLook
          if (!c.stable) look.incomplete++
          else look.files.push({ sourceRef: dirRef(c.path), recordedAt: c.mtimeMs, wavPath: c.path, xapiId: null })
          continue
        }
        const unsure = owners.length > 1 ? owners : same.filter((l) => l.participantIds.length === 0)
        for (const l of unsure) (out.get(l.legKey) as LegLook).unidentified.push(dirRef(c.path))
      }
    }
    this.sightings = seen
    return out
  }

  private async candidates (dn: string, callids: ReadonlySet<number>, claimed: (ref: string) => boolean, now: number): Promise<Candidate[]> {
    if (!/^[A-Za-z0-9_-]+$/.test(dn)) return []
    const folder = path.join(this.root, dn)
    let names: string[]
    try {
      names = await readdir(folder)
    } catch {
      return [] // no folder yet: nothing recorded for this extension
    }
    const out: Candidate[] = []
    for (const name of names) {
      const parsed = parseDirFileName(name)
      if (parsed === null || !callids.has(parsed.callid)) continue
      const file = path.join(folder, name)
      if (claimed(dirRef(file))) continue
      const st = await stat(file).catch(() => null)
      if (st === null || !st.isFile()) continue
      const sighting = { path: file, size: st.size, mtimeMs: st.mtimeMs }
      out.push({ ...sighting, ...parsed, stable: isStable(sighting, this.sightings.get(file), now, this.stableMs) })
    }
    // Recording order: the time stamp in the name, then the last write, then the name.
    return out.sort((a, b) => a.stamp.localeCompare(b.stamp) || a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))
  }

  async fetchWav (recording: RecordingRow): Promise<LocalWav> {
    return { path: recording.wavPath ?? '', temporary: false }
  }
}
