// WAV (RIFF, PCM 16-bit little-endian) generation for the simulator's recordings: 8 kHz mono by
// default, audible tones rather than silence so a listener hears something. Streams in chunks so
// a one-hour file (57.6 MB) never sits in memory; files are written atomically (temp + rename).
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

export interface WavFormat {
  sampleRate: number
  channels: number
  bitsPerSample: 16
}

export const TELEPHONY_WAV: WavFormat = { sampleRate: 8000, channels: 1, bitsPerSample: 16 }

export const WAV_HEADER_BYTES = 44

export function wavDataBytes (durationMs: number, fmt: WavFormat = TELEPHONY_WAV): number {
  const frames = Math.round(durationMs * fmt.sampleRate / 1000)
  return frames * fmt.channels * (fmt.bitsPerSample / 8)
}

/** The 44-byte RIFF/WAVE header for `dataBytes` bytes of PCM. */
export function wavHeader (dataBytes: number, fmt: WavFormat = TELEPHONY_WAV): Buffer {
  const blockAlign = fmt.channels * fmt.bitsPerSample / 8
  const h = Buffer.alloc(WAV_HEADER_BYTES)
  h.write('RIFF', 0, 'ascii')
  h.writeUInt32LE(36 + dataBytes, 4)
  h.write('WAVE', 8, 'ascii')
  h.write('fmt ', 12, 'ascii')
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(1, 20) // PCM
  h.writeUInt16LE(fmt.channels, 22)
  h.writeUInt32LE(fmt.sampleRate, 24)
  h.writeUInt32LE(fmt.sampleRate * blockAlign, 28)
  h.writeUInt16LE(blockAlign, 32)
  h.writeUInt16LE(fmt.bitsPerSample, 34)
  h.write('data', 36, 'ascii')
  h.writeUInt32LE(dataBytes, 40)
  return h
}

export interface ParsedWav extends WavFormat {
  dataBytes: number
  durationMs: number
}

/** Reads a canonical 44-byte header (what wavHeader writes); null when it is not one. */
export function parseWavHeader (buf: Buffer): ParsedWav | null {
  if (buf.length < WAV_HEADER_BYTES) return null
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null
  if (buf.toString('ascii', 12, 16) !== 'fmt ' || buf.readUInt16LE(20) !== 1) return null
  if (buf.toString('ascii', 36, 40) !== 'data') return null
  const channels = buf.readUInt16LE(22)
  const sampleRate = buf.readUInt32LE(24)
  const bits = buf.readUInt16LE(34)
  if (bits !== 16 || channels < 1 || sampleRate < 1) return null
  const dataBytes = buf.readUInt32LE(40)
  return { sampleRate, channels, bitsPerSample: 16, dataBytes, durationMs: dataBytes / (channels * 2) / sampleRate * 1000 }
}

/**
 * The base tone of a call's recordings: 300–1050 Hz in 50 Hz steps by callid, so a test can tell
 * from the audio alone which call a recording (and the MP3 made from it) belongs to.
 */
export function callToneHz (callid: number): number {
  return 300 + (callid % 16) * 50
}

export interface ToneOptions {
  /** Base tone (Hz); every other second uses 1.5× it, with a short pause between beeps. */
  toneHz?: number
  /** Peak amplitude, 0–1 (default 0.3). */
  volume?: number
  /** Samples per chunk (default one second). */
  chunkFrames?: number
}

/** Two seconds of the beep pattern (one second per tone); every chunk is copied out of it. */
function tonePattern (fmt: WavFormat, opts: ToneOptions): Buffer {
  const base = opts.toneHz ?? 440
  const amp = Math.round(32767 * (opts.volume ?? 0.3))
  const beepFrames = Math.round(fmt.sampleRate * 0.8)
  const frameBytes = fmt.channels * 2
  const buf = Buffer.alloc(2 * fmt.sampleRate * frameBytes)
  for (let n = 0; n < 2 * fmt.sampleRate; n++) {
    const i = n % fmt.sampleRate
    const hz = n < fmt.sampleRate ? base : base * 1.5
    const v = i < beepFrames ? Math.round(amp * Math.sin(2 * Math.PI * hz * i / fmt.sampleRate)) : 0
    for (let c = 0; c < fmt.channels; c++) buf.writeInt16LE(v, n * frameBytes + c * 2)
  }
  return buf
}

/** PCM chunks (no header) of `durationMs` of beeping tones. */
export function * pcmToneChunks (durationMs: number, fmt: WavFormat = TELEPHONY_WAV, opts: ToneOptions = {}): Generator<Buffer> {
  const total = wavDataBytes(durationMs, fmt)
  const pattern = tonePattern(fmt, opts)
  const chunkBytes = (opts.chunkFrames ?? fmt.sampleRate) * fmt.channels * 2
  for (let start = 0; start < total; start += chunkBytes) {
    const buf = Buffer.allocUnsafe(Math.min(chunkBytes, total - start))
    for (let filled = 0; filled < buf.length;) {
      const from = (start + filled) % pattern.length
      filled += pattern.copy(buf, filled, from, Math.min(pattern.length, from + buf.length - filled))
    }
    yield buf
  }
}

/** Header plus PCM, as a stream of chunks. */
export function * wavChunks (durationMs: number, fmt: WavFormat = TELEPHONY_WAV, opts: ToneOptions = {}): Generator<Buffer> {
  yield wavHeader(wavDataBytes(durationMs, fmt), fmt)
  yield * pcmToneChunks(durationMs, fmt, opts)
}

/** Writes a tone WAV of `durationMs` to `filePath` atomically (temp file, then rename). */
export async function writeWavFile (filePath: string, durationMs: number, opts: ToneOptions & { format?: WavFormat, signal?: AbortSignal } = {}): Promise<void> {
  await mkdir(path.dirname(filePath), { recursive: true })
  const tmp = `${filePath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    const signal = opts.signal
    await pipeline(Readable.from(wavChunks(durationMs, opts.format ?? TELEPHONY_WAV, opts)), createWriteStream(tmp), signal === undefined ? {} : { signal })
    // An abort that lands after the last chunk must still leave no file behind.
    signal?.throwIfAborted()
    await rename(tmp, filePath)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
