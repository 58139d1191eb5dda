// RECORDINGS_SOURCE=dir: 3CX's recordings folder, `<root>/<extension>/<name>_<number>_<stamp>_<callid>.wav`.
// Only the folders of legs that are waiting are read, so a large archive costs nothing; a file
// counts once it has not changed for `stableMs` (3CX closes it up to ~2 s after hang-up).
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { RecordingRow } from './recording-index.js'
import { dirRef, isStable, parseDirFileName, type DirFileSighting, type LegWindow } from './recording-matcher.js'
import type { LegLook, LocalWav, RecordingSource } from './recording-source.js'

/** A file older than its leg by more than this is from another call with a reused callid. */
const OLDER_THAN_LEG_MS = 5_000

interface Candidate extends DirFileSighting { stamp: string, stable: boolean }

export class DirRecordingSource implements RecordingSource {
  readonly kind = 'dir'
  private sightings = new Map<string, DirFileSighting>()

  constructor (private readonly root: string, private readonly stableMs = 2_000) {}

  async look (legs: readonly LegWindow[], claimed: (sourceRef: string) => boolean): Promise<Map<string, LegLook>> {
    const now = Date.now()
    const seen = new Map<string, DirFileSighting>()
    const out = new Map<string, LegLook>(legs.map((l) => [l.legKey, { files: [], incomplete: 0 }]))
    const groups = new Map<string, LegWindow[]>()
    for (const l of legs) {
      const k = `${l.dn}\n${l.callid}`
      groups.set(k, [...(groups.get(k) ?? []), l])
    }
    for (const group of groups.values()) {
      const candidates = await this.candidates(group[0].dn, group[0].callid, claimed, now)
      for (const c of candidates) {
        seen.set(c.path, c)
        const leg = closestLeg(group, c.mtimeMs)
        if (leg === undefined) continue
        const look = out.get(leg.legKey) as LegLook
        if (!c.stable) { look.incomplete++; continue }
        look.files.push({ sourceRef: dirRef(c.path), recordedAt: c.mtimeMs, wavPath: c.path, xapiId: null })
      }
    }
    this.sightings = seen
    return out
  }

  private async candidates (dn: string, callid: number, claimed: (ref: string) => boolean, now: number): Promise<Candidate[]> {
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
      if (parsed === null || parsed.callid !== callid) continue
      const file = path.join(folder, name)
      if (claimed(dirRef(file))) continue
      const st = await stat(file).catch(() => null)
      if (st === null || !st.isFile()) continue
      const sighting = { path: file, size: st.size, mtimeMs: st.mtimeMs }
      out.push({ ...sighting, stamp: parsed.stamp, stable: isStable(sighting, this.sightings.get(file), now, this.stableMs) })
    }
    // Recording order: the time stamp in the name, then the last write, then the name.
    return out.sort((a, b) => a.stamp.localeCompare(b.stamp) || a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path))
  }

  async fetchWav (recording: RecordingRow): Promise<LocalWav> {
    return { path: recording.wavPath ?? '', temporary: false }
  }
}

/** Of the legs with the same extension and callid, the one that ended closest to the file's last write. */
function closestLeg (legs: readonly LegWindow[], mtimeMs: number): LegWindow | undefined {
  let best: LegWindow | undefined
  for (const l of legs) {
    if (mtimeMs < l.startedAt - OLDER_THAN_LEG_MS) continue
    if (best === undefined || Math.abs(mtimeMs - l.endedAt) < Math.abs(mtimeMs - best.endedAt)) best = l
  }
  return best
}
