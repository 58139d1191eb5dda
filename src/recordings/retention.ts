// MP3 retention: recordings older than MP3_RETENTION_DAYS go (file and index row), except those an
// undelivered event still links to. Also removes stray MP3s the index does not know (older than the
// retention too), partial files a killed ffmpeg left behind, and old WAVs kept after a failure.
import { readdir, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { RecordingIndex } from './recording-index.js'
import { FILE_NAME_PATTERN } from './recording-links.js'
import { PARTIAL_SUFFIX } from './ffmpeg-pool.js'

const DAY_MS = 86_400_000
/** A partial file this old has no live ffmpeg writing it any more. */
const PARTIAL_MAX_AGE_MS = 3_600_000

export interface RetentionOptions {
  retentionDays: number
  now?: number
  /**
   * Whether an undelivered webhook event still links to this file (then it stays). Default: kept
   * while its announcement is younger than `maxEventAgeMs`, the longest the outbox retries.
   */
  inUse?: (fileName: string) => boolean
  maxEventAgeMs?: number
  /** Folders whose old files (WAVs kept after a failed conversion) also expire. */
  extraDirs?: readonly string[]
}

export interface RetentionResult {
  deletedFiles: number
  freedBytes: number
  deletedRows: number
  /** Expired, but an undelivered event still links to them. */
  keptInUse: number
}

export async function runRetention (index: RecordingIndex, mp3Dir: string, opts: RetentionOptions): Promise<RetentionResult> {
  const now = opts.now ?? Date.now()
  const cutoff = now - opts.retentionDays * DAY_MS
  const result: RetentionResult = { deletedFiles: 0, freedBytes: 0, deletedRows: 0, keptInUse: 0 }
  const maxEventAge = opts.maxEventAgeMs ?? 0

  const remove = async (file: string): Promise<void> => {
    const size = await stat(file).then((s) => s.size, () => null)
    if (size === null) return
    // Another replica's retention (on a shared MP3_DIR) may have removed it first.
    if (!await unlink(file).then(() => true, (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return false; throw err })) return
    result.deletedFiles++
    result.freedBytes += size
  }

  for (const rec of await index.recordedBefore(cutoff)) {
    const linked = opts.inUse !== undefined
      ? opts.inUse(rec.fileName)
      : rec.announcedAt !== null && rec.announcedAt > now - maxEventAge
    if (linked) { result.keptInUse++; continue }
    // The row first: of several replicas sharing the index only the one that deleted it removes the
    // file (a crash in between leaves a stray file, removed below by a later run).
    if (!await index.deleteRecording(rec.id)) continue
    result.deletedRows++
    if (rec.state === 'done') await remove(path.join(mp3Dir, rec.fileName))
  }
  result.deletedRows += await index.deleteEmptyLegsBefore(cutoff)

  // Only the top level of MP3_DIR holds gateway files; sub-folders (a backfill archive) are left alone.
  const known = await index.fileNames()
  for (const name of await readdir(mp3Dir).catch(() => [] as string[])) {
    const file = path.join(mp3Dir, name)
    const partial = name.endsWith(PARTIAL_SUFFIX)
    if (!partial && (!FILE_NAME_PATTERN.test(name) || known.has(name))) continue
    const st = await stat(file).catch(() => null)
    if (st === null || !st.isFile()) continue
    if (st.mtimeMs < (partial ? now - PARTIAL_MAX_AGE_MS : cutoff)) await remove(file)
  }
  for (const dir of opts.extraDirs ?? []) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name)
      const st = await stat(file).catch(() => null)
      if (st?.isFile() === true && st.mtimeMs < cutoff) await remove(file)
    }
  }
  return result
}

export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
