// WAV → MP3 conversion in a bounded pool of ffmpeg child processes. The event loop only waits on
// process exits; at most `concurrency` ffmpeg processes run at once, the rest queue. Every MP3 is
// written under a temporary name in the target folder and renamed when ffmpeg succeeded, so a
// reader never sees a half-written file (rename is atomic on one file system).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { mkdir, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'

export interface Mp3Options {
  /** Target bit rate, kbit/s (config.recordings.bitrateKbps). */
  bitrateKbps: number
}

export interface FfmpegPoolOptions extends Mp3Options {
  ffmpegPath: string
  /** Upper bound of simultaneous ffmpeg processes (config.recordings.concurrency). */
  concurrency: number
  /** A conversion running longer than this is killed and reported as failed. */
  timeoutMs?: number
}

export interface ConversionResult {
  mp3Path: string
  bytes: number
  /** Wall time of the ffmpeg process, ms. */
  elapsedMs: number
}

/** ffmpeg could not produce the MP3 (unreadable input, killed, timed out). `reason` is admin-readable. */
export class ConversionError extends Error {
  override name = 'ConversionError'
  constructor (readonly reason: string) {
    super(reason)
  }
}

/** The pool is draining or closed: the work was not started and stays to be done on the next start. */
export class PoolClosedError extends Error {
  override name = 'PoolClosedError'
  constructor () {
    super('the conversion pool is shutting down')
  }
}

/** Suffix of the temporary names; retention removes stale ones left by a killed process. */
export const PARTIAL_SUFFIX = '.partial'

const DEFAULT_TIMEOUT_MS = 30 * 60_000
const STDERR_TAIL = 2000

/** `FFMPEG_PATH` when set, else the static binary shipped by @ffmpeg-installer/ffmpeg. */
export function resolveFfmpegPath (configured: string): string {
  if (configured !== '') return configured
  const require = createRequire(import.meta.url)
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path
}

/** ffmpeg arguments for one conversion: mono MP3 at a constant bit rate, no metadata copied. */
export function mp3Args (input: string, output: string, opts: Mp3Options): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-i', input,
    '-vn', '-map_metadata', '-1',
    '-ac', '1',
    '-codec:a', 'libmp3lame', '-b:a', `${opts.bitrateKbps}k`,
    '-f', 'mp3',
    output
  ]
}

/** A temporary name next to `target`, unique per attempt, that no reader will ever look up. */
export function partialPath (target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`)
}

interface Job {
  wavPath: string
  mp3Path: string
  resolve: (r: ConversionResult) => void
  reject: (e: Error) => void
}

export class FfmpegPool {
  private readonly queue: Job[] = []
  private readonly running = new Set<RunningConversion>()
  private closed = false
  private idleWaiters: Array<() => void> = []

  constructor (private readonly opts: FfmpegPoolOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError('concurrency must be a whole number ≥ 1')
  }

  /** Number of ffmpeg processes alive right now (never more than `concurrency`). */
  get active (): number { return this.running.size }
  get queued (): number { return this.queue.length }

  /** Converts one WAV; resolves when the MP3 is complete under its final name. */
  async convert (wavPath: string, mp3Path: string): Promise<ConversionResult> {
    if (this.closed) throw new PoolClosedError()
    return await new Promise<ConversionResult>((resolve, reject) => {
      this.queue.push({ wavPath, mp3Path, resolve, reject })
      this.pump()
    })
  }

  /**
   * Graceful shutdown: no new work, queued jobs are rejected with PoolClosedError (their state
   * stays "pending" in the index, so the next start does them), running ones get `graceMs` to
   * finish and are killed after that. Resolves with whether everything finished in time.
   */
  async drain (graceMs: number): Promise<boolean> {
    this.closed = true
    for (const job of this.queue.splice(0)) job.reject(new PoolClosedError())
    if (this.running.size === 0) return true
    let timer: NodeJS.Timeout | undefined
    const idle = new Promise<boolean>((resolve) => { this.idleWaiters.push(() => resolve(true)) })
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs) })
    const finished = await Promise.race([idle, late])
    clearTimeout(timer)
    if (!finished) {
      for (const r of this.running) r.kill('drain timed out')
      await new Promise<void>((resolve) => { if (this.running.size === 0) resolve(); else this.idleWaiters.push(resolve) })
    }
    return finished
  }

  private pump (): void {
    while (this.running.size < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as Job
      const conversion = new RunningConversion(this.opts, job)
      this.running.add(conversion)
      conversion.done.finally(() => {
        this.running.delete(conversion)
        if (this.running.size === 0 && this.queue.length === 0) {
          for (const w of this.idleWaiters.splice(0)) w()
        }
        if (!this.closed) this.pump()
      }).catch(() => {})
    }
  }
}

/** One ffmpeg process writing a partial file, renamed on success, removed on failure. */
class RunningConversion {
  readonly done: Promise<void>
  private killReason: string | null = null
  private child: ReturnType<typeof spawn> | null = null

  constructor (private readonly opts: FfmpegPoolOptions, job: Job) {
    this.done = this.run(job).then(job.resolve, job.reject)
  }

  kill (reason: string): void {
    this.killReason = reason
    this.child?.kill('SIGKILL')
  }

  private async run (job: Job): Promise<ConversionResult> {
    const started = performance.now()
    await mkdir(path.dirname(job.mp3Path), { recursive: true })
    const partial = partialPath(job.mp3Path)
    try {
      await this.ffmpeg(mp3Args(job.wavPath, partial, this.opts))
      const { size } = await stat(partial)
      if (size === 0) throw new ConversionError('ffmpeg produced an empty file')
      await rename(partial, job.mp3Path)
      return { mp3Path: job.mp3Path, bytes: size, elapsedMs: performance.now() - started }
    } catch (err) {
      await unlink(partial).catch(() => {})
      throw err
    }
  }

  private async ffmpeg (args: string[]): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    await new Promise<void>((resolve, reject) => {
      const child = spawn(this.opts.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      this.child = child
      if (this.killReason !== null) child.kill('SIGKILL')
      let stderr = ''
      child.stderr?.setEncoding('utf8')
      child.stderr?.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL) })
      const timer = setTimeout(() => this.kill(`timed out after ${Math.round(timeoutMs / 1000)} s`), timeoutMs)
      child.on('error', (err) => {
        clearTimeout(timer)
        reject(new ConversionError(`cannot run ffmpeg (${this.opts.ffmpegPath}): ${err.message}`))
      })
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        if (code === 0) { resolve(); return }
        const why = this.killReason ?? (signal !== null ? `ffmpeg was killed by ${signal}` : `ffmpeg exited with code ${String(code)}`)
        reject(new ConversionError(`${why}${stderr.trim() !== '' ? `: ${lastLines(stderr)}` : ''}`))
      })
    })
  }
}

function lastLines (text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ')
}
