// What GET /callcontrol/{dn}/participants/{id}/stream plays: the caller "speaking", as raw PCM
// 16-bit 8 kHz mono in 100 ms chunks at real-time pace, for as long as the participant exists.
// The caller's voice is the beep pattern of the call's own tone (callToneHz), so a listener — and a
// test — can tell which call the audio belongs to.
import { Readable } from 'node:stream'
import { callToneHz, pcmToneChunks, TELEPHONY_WAV } from '../wav.js'

/** One chunk every 100 ms. */
export const AUDIO_CHUNK_MS = 100
/** A stream never outlives this (the longest scripted talk time). */
const MAX_STREAM_MS = 3_600_000

/** A live PCM stream of the caller of `callid`; it ends once `alive()` turns false. */
export function callerAudio (callid: number, alive: () => boolean): Readable {
  const chunks = pcmToneChunks(MAX_STREAM_MS, TELEPHONY_WAV, { toneHz: callToneHz(callid), chunkFrames: TELEPHONY_WAV.sampleRate * AUDIO_CHUNK_MS / 1000 })
  let timer: NodeJS.Timeout | undefined
  const next = (): Buffer | null => {
    if (!alive()) return null
    const c = chunks.next()
    return c.done === true ? null : c.value
  }
  return new Readable({
    read () {
      if (timer !== undefined) return
      timer = setTimeout(() => {
        timer = undefined
        this.push(next())
      }, AUDIO_CHUNK_MS)
      timer.unref()
    },
    destroy (err, cb) {
      clearTimeout(timer)
      cb(err)
    }
  })
}
