// Where and under which name a recorded leg's WAV files go, in the 3CX (Debian) layout:
// <root>/<extension>/<name>_<other number>_<yyyyMMddHHmmss>_<callid>.wav. Pure, so tests and the
// XAPI side can rely on the shape.
import path from 'node:path'

/** yyyyMMddHHmmss in UTC. */
export function fileStamp (at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** Only characters that are safe in a file name on every platform. */
export function safeFilePart (s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9+]+/g, '-').replace(/^-+|-+$/g, '')
  return cleaned === '' ? 'unknown' : cleaned
}

export interface RecordingNameParts {
  extension: string
  /** The recorded extension's display name. */
  name: string
  participantId: number
  /** 1-based file index among the leg's files. */
  segmentIndex: number
  otherNumber: string
  startedAt: Date
  callid: number
}

/** Relative path of one recording file, e.g. `101/Tom-Smith-p3-1_+15557654321_20250101120000_1000.wav`. */
export function recordingRelativePath (p: RecordingNameParts): string {
  const something = `${safeFilePart(p.name)}-p${p.participantId}-${p.segmentIndex}`
  const file = `${something}_${safeFilePart(p.otherNumber)}_${fileStamp(p.startedAt)}_${p.callid}.wav`
  return path.posix.join(safeFilePart(p.extension), file)
}
