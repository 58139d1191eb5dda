// Where WAV recordings come from: 3CX's recordings folder (`RECORDINGS_SOURCE=dir`) or XAPI
// (`RECORDINGS_SOURCE=xapi`). A source only looks and fetches; the service decides.
import type { FoundRecording, RecordingRow } from './recording-index.js'
import type { LegWindow } from './recording-matcher.js'

/**
 * One look for one leg: the complete files identified as its own, in recording order, how many of
 * its own are still being written, and the source refs of files near it that nothing identifies.
 */
export interface LegLook {
  files: FoundRecording[]
  incomplete: number
  unidentified: string[]
}

export function emptyLook (): LegLook {
  return { files: [], incomplete: 0, unidentified: [] }
}

export interface LocalWav {
  path: string
  /** A copy the gateway made (XAPI download): removed once converted. */
  temporary: boolean
}

/** A fetch that may work later (PBX down, timeout): the recording stays pending. */
export class TransientSourceError extends Error {
  override name = 'TransientSourceError'
}

export interface RecordingSource {
  readonly kind: 'dir' | 'xapi'
  /** Looks for the files of the given legs; files already claimed (`claimed(sourceRef)`) are skipped. */
  look(legs: readonly LegWindow[], claimed: (sourceRef: string) => boolean): Promise<Map<string, LegLook>>
  /** Makes the WAV of a recording available on the local disk, under `workDir` if it must be copied. */
  fetchWav(recording: RecordingRow, workDir: string): Promise<LocalWav>
}
