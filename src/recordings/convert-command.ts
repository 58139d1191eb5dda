// `3cx-gateway recordings convert <dir> [--out DIR] [--concurrency N]`: converts an existing archive
// of 3CX WAV recordings to MP3 through the same pool as the live pipeline, mirroring the folder
// layout. Resumable: an MP3 that exists is complete (written under a temporary name, then renamed),
// so a second run skips it and only does what is left (including what failed before).
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import cliProgress from 'cli-progress'
import type { Config } from '../config.js'
import { commandHelp, findCommand, parseCommandLine, UsageError, type CliCommand } from '../cli-help.js'
import { ConversionError, FfmpegPool, resolveFfmpegPath } from './ffmpeg-pool.js'

export interface CommandIo { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }

const CONVERT_COMMAND = findCommand('recordings convert') as CliCommand

/** Every `*.wav` under `dir`, relative to it, sorted (so runs and progress are reproducible). */
export async function findWavFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && /\.wav$/i.test(e.name))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}

/** `101/a_101_20250101120000_7.wav` → `<out>/101/a_101_20250101120000_7.mp3` */
export function mp3PathFor (outDir: string, relativeWav: string): string {
  return path.join(outDir, relativeWav.replace(/\.wav$/i, '.mp3'))
}

export async function runRecordingsConvert (config: Config, argv: string[], io: CommandIo): Promise<number> {
  const usage = commandHelp(CONVERT_COMMAND)
  let parsed
  try {
    parsed = parseCommandLine(CONVERT_COMMAND, argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`recordings convert: ${err.message}\n\n${usage}\n`)
    return 2
  }
  if (parsed.help) { io.stdout.write(`${usage}\n`); return 0 }
  const { positionals } = parsed
  const values = parsed.values as { out?: string, concurrency?: string }
  if (positionals.length !== 1) { io.stderr.write(`recordings convert: which folder? Give the folder that holds the WAV files\n\n${usage}\n`); return 2 }
  const sourceDir = path.resolve(positionals[0])
  const outDir = path.resolve(values.out ?? path.join(config.recordings.mp3Dir, 'archive'))
  const concurrency = values.concurrency === undefined ? config.recordings.concurrency : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) { io.stderr.write(`recordings convert: --concurrency must be a whole number from 1 to 64\n`); return 2 }
  if (!(await stat(sourceDir).then((s) => s.isDirectory(), () => false))) {
    io.stderr.write(`recordings convert: ${sourceDir} is not a folder; give the folder that holds the WAV files\n`)
    return 2
  }
  if (outDir === sourceDir || outDir.startsWith(sourceDir + path.sep)) {
    // Not fatal, but say it: the MP3s then sit next to the WAVs.
    io.stderr.write(`recordings convert: writing the MP3 files inside the source folder (${outDir})\n`)
  }

  const wavs = await findWavFiles(sourceDir)
  const todo: string[] = []
  for (const rel of wavs) {
    if (!(await stat(mp3PathFor(outDir, rel)).then((s) => s.size > 0, () => false))) todo.push(rel)
  }
  const skipped = wavs.length - todo.length
  io.stdout.write(`${wavs.length} WAV file(s) in ${sourceDir}: ${skipped} already converted, ${todo.length} to convert into ${outDir}\n`)

  const pool = new FfmpegPool({ ffmpegPath: resolveFfmpegPath(config.recordings.ffmpegPath), concurrency, bitrateKbps: config.recordings.bitrateKbps })
  const bar = new cliProgress.SingleBar({ stream: io.stderr, format: 'converting [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted}', hideCursor: false }, cliProgress.Presets.legacy)
  bar.start(todo.length, 0)
  const failures: string[] = []
  let converted = 0
  await Promise.all(todo.map(async (rel) => {
    try {
      await pool.convert(path.join(sourceDir, rel), mp3PathFor(outDir, rel))
      converted++
    } catch (err) {
      failures.push(`${rel}: ${err instanceof ConversionError ? err.reason : String(err)}`)
    }
    bar.increment()
  }))
  bar.stop()
  await pool.drain(0)

  for (const f of failures) io.stderr.write(`failed: ${f}\n`)
  io.stdout.write(`converted ${converted}, skipped ${skipped}, failed ${failures.length}\n`)
  return failures.length > 0 ? 1 : 0
}
