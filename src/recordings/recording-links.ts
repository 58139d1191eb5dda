// Names, tokens and public links of MP3 recordings. A link is `{PUBLIC_URL}/recordings/<token>/<file>`:
// the token is 144 random bits stored in the index, so nobody derives a link from a call id.
import { randomBytes } from 'node:crypto'

/** 18 random bytes → 24 base64url characters (144 bits). */
export function newRecordingToken (): string {
  return randomBytes(18).toString('base64url')
}

/** What a token looks like; anything else is rejected before the index is asked. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{24}$/

/** `<legacy id>-<n>.mp3`, n counting the files of that leg from 1 (webhooks.md §2). */
export function recordingFileName (legacyId: string, n: number): string {
  return `${legacyId}-${n}.mp3`
}

/** What a recording file name looks like: `210701165649_698-2-1.mp3`. */
export const FILE_NAME_PATTERN = /^\d{12}_\d+-\d+-\d+\.mp3$/

export function recordingUrl (publicUrl: string, token: string, fileName: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/recordings/${token}/${encodeURIComponent(fileName)}`
}
