// For the benchmark: the time one WAV takes through the gateway's conversion pool (temporary name,
// rename, pool bookkeeping included), and the same ffmpeg command to run bare for comparison.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { FfmpegPool, mp3Args, resolveFfmpegPath } from './ffmpeg-pool.js'

export interface TimingOptions {
  /** Default: FFMPEG_PATH semantics ('' = the bundled binary). */
  ffmpegPath?: string
  /** Default 32 (the MP3_BITRATE_KBPS default). */
  bitrateKbps?: number
  /** Where the MP3 goes; default a temp folder removed afterwards. */
  outDir?: string
}

export interface PoolTiming {
  /** Wall time from `convert()` call to the renamed MP3, ms. */
  elapsedMs: number
  /** Size of the MP3. */
  bytes: number
}

/** Converts `wavPath` once through a one-process FfmpegPool and reports how long it took. */
export async function timePoolConversion (wavPath: string, opts: TimingOptions = {}): Promise<PoolTiming> {
  const outDir = opts.outDir ?? await mkdtemp(path.join(os.tmpdir(), 'mp3-timing-'))
  const pool = new FfmpegPool({ ffmpegPath: resolveFfmpegPath(opts.ffmpegPath ?? ''), concurrency: 1, bitrateKbps: opts.bitrateKbps ?? 32 })
  try {
    const started = performance.now()
    const r = await pool.convert(wavPath, path.join(outDir, 'timing.mp3'))
    return { elapsedMs: performance.now() - started, bytes: r.bytes }
  } finally {
    await pool.drain(0)
    if (opts.outDir === undefined) await rm(outDir, { recursive: true, force: true })
  }
}

/** The exact ffmpeg invocation the pool makes, to time it bare: `spawn(command.file, command.args)`. */
export function bareConversionCommand (wavPath: string, mp3Path: string, opts: TimingOptions = {}): { file: string, args: string[] } {
  return { file: resolveFfmpegPath(opts.ffmpegPath ?? ''), args: mp3Args(wavPath, mp3Path, { bitrateKbps: opts.bitrateKbps ?? 32 }) }
}
