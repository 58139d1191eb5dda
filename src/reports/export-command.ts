// `3cx-gateway export <history|calllog|abandoned|queueperf|recordings> --from --to …`: the report
// routes' data in one command, streamed into a file (or stdout with `--out -`), with a progress bar
// on a terminal and a summary at the end. Exit codes: 0 done, 1 the PBX or the file failed, 2 bad
// arguments or configuration (a one-line error saying what to fix).
import { createWriteStream } from 'node:fs'
import { rename, stat, unlink } from 'node:fs/promises'
import { PassThrough, type Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import cliProgress from 'cli-progress'
import type { Config } from '../config.js'
import { commandHelp, findCommand, parseCommandLine, UsageError, type CliCommand } from '../cli-help.js'
import { createPbxClients } from '../pbx/pbx-clients.js'
import { PbxError } from '../pbx/pbx-api.js'
import { openReport, type ReportProgress } from './report-fetch.js'
import { reportFileName } from './report-file-name.js'
import { ReportInputError } from './report-input-error.js'
import { REPORT_FORMATS, REPORT_KINDS, REPORTS, type ReportFormat } from './report-kinds.js'
import { parseReportParams } from './report-params.js'
import { writeReport } from './report-writers.js'

export interface ExportIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

const EXPORT_COMMAND = findCommand('export') as CliCommand

export async function runExport (config: Config, argv: string[], io: ExportIo): Promise<number> {
  const prepared = prepareExport(config, argv, io)
  return typeof prepared === 'number' ? prepared : await prepared(config)
}

/**
 * Checks the command line before anything starts (in demo mode, before the simulator): an exit code
 * when there is nothing to run (--help: 0, bad arguments: 2), else the export to run on a PBX.
 * The report's dates are read in `config`'s time zone and span limit, which demo mode keeps.
 */
export function prepareExport (config: Config, argv: string[], io: ExportIo): number | ((pbx: Config) => Promise<number>) {
  const say = (line: string): void => { io.stderr.write(`${line}\n`) }
  let job: ExportJob
  try {
    const parsed = parseExportLine(argv)
    if (parsed === 'help') {
      io.stdout.write(`${commandHelp(EXPORT_COMMAND)}\n`)
      return 0
    }
    job = prepareJob(config, parsed)
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ReportInputError)) throw err
    say(`export: ${err instanceof ReportInputError ? `--${err.message}` : err.message}`)
    say('Run "3cx-gateway export --help" for the options.')
    return 2
  }
  return async (pbx) => {
    if (pbx.pbx.url === '') {
      // Demo mode without its simulator (the CLI starts one; see demo-simulator.ts).
      say('export: there is no PBX to export from; set PBX_URL, PBX_CLIENT_ID and PBX_CLIENT_SECRET (or .env) first.')
      return 2
    }
    return await runJob(pbx, job, io, say)
  }
}

interface ParsedExport { kind: string, values: Record<string, string | boolean | undefined> }

function parseExportLine (argv: string[]): ParsedExport | 'help' {
  // One positional more than export takes, so the stray one is named with the hint below.
  const parsed = parseCommandLine({ ...EXPORT_COMMAND, maxPositionals: 2 }, argv)
  if (parsed.help) return 'help'
  const [kind, ...extra] = parsed.positionals
  if (kind === undefined) throw new UsageError(`which report? Add one of ${REPORT_KINDS.join(', ')} (e.g. 3cx-gateway export calllog --from 2026-11-01 --to 2026-11-07)`)
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; options start with -- (e.g. --from 2026-11-01)`)
  return { kind, values: parsed.values }
}

interface ExportJob {
  def: typeof REPORTS[keyof typeof REPORTS]
  request: ReturnType<typeof parseReportParams>['request']
  format: ReportFormat
  /** A file path, or null for stdout. */
  outPath: string | null
  progress: boolean
}

function prepareJob (config: Config, { kind, values }: ParsedExport): ExportJob {
  const def = REPORT_KINDS.includes(kind as never) ? REPORTS[kind as keyof typeof REPORTS] : undefined
  if (def === undefined) throw new UsageError(`unknown report "${kind}"; use one of ${REPORT_KINDS.join(', ')}`)
  const str = (k: string): string | undefined => typeof values[k] === 'string' ? values[k] : undefined
  for (const k of ['ext', 'answered', 'queue', 'wait'] as const) {
    if (str(k) !== undefined && !def.params.includes(k)) {
      throw new UsageError(`--${k} does not apply to ${kind}; it takes ${def.params.length === 0 ? 'no filters' : def.params.map((p) => `--${p}`).join(', ')}`)
    }
  }
  const out = str('out')
  const { request, format } = parseReportParams(def, {
    from: str('from'),
    to: str('to'),
    ext: str('ext'),
    answered: str('answered'),
    queue: str('queue'),
    wait: str('wait'),
    top: str('top'),
    skip: str('skip'),
    format: str('format') ?? formatOfFile(out)
  }, config.pbx.timezone, config.reports.maxSpanDays)
  const outPath = out === '-' ? null : out ?? reportFileName(request, format, config.pbx.timezone)
  if (outPath === '') throw new UsageError('--out needs a file name, or - for stdout')
  return { def, request, format, outPath, progress: values.progress === true }
}

/** `calls.xlsx` → xlsx; a name without a known extension leaves the format to --format (json). */
function formatOfFile (out: string | undefined): string | undefined {
  const ext = out?.split('.').pop()?.toLowerCase()
  return REPORT_FORMATS.find((f) => f === ext)
}

async function runJob (config: Config, job: ExportJob, io: ExportIo, say: (line: string) => void): Promise<number> {
  const started = Date.now()
  const clients = createPbxClients(config)
  const bar = job.progress || io.stderr.isTTY === true ? progressBar(io, job.progress) : null
  const partPath = job.outPath === null ? null : `${job.outPath}.part`
  try {
    const rows = await openReport(clients.xapi, job.request, { ...config.reports, onProgress: bar?.update })
    const target = partPath === null ? toStdout(io.stdout) : { stream: createWriteStream(partPath), done: async () => {} }
    const count = await writeReport(job.def, rows, job.format, target.stream)
    await target.done()
    bar?.stop(count)
    let where = 'stdout'
    if (job.outPath !== null && partPath !== null) {
      await rename(partPath, job.outPath)
      where = `${job.outPath} (${humanBytes((await stat(job.outPath)).size)})`
    }
    say(`Exported ${count.toLocaleString('en-US')} ${count === 1 ? 'row' : 'rows'} of the ${job.def.title} to ${where} in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
    return 0
  } catch (err) {
    bar?.stop()
    if (partPath !== null) await unlink(partPath).catch(() => {})
    const why = err instanceof PbxError ? `${err.message}${err.code === 'PBX_FORBIDDEN' ? ' (the API client must have the System Owner role)' : ''}` : (err as Error).message
    say(`export: ${job.def.kind} failed: ${why}`)
    return 1
  } finally {
    await clients.close()
  }
}

/** stdout is never ended (other output may follow); the export ends its own PassThrough. */
function toStdout (stdout: NodeJS.WritableStream): { stream: Writable, done: () => Promise<void> } {
  const stream = new PassThrough()
  stream.pipe(stdout, { end: false })
  return { stream, done: async () => { await finished(stream) } }
}

function progressBar (io: ExportIo, forced: boolean): { update: (p: ReportProgress) => void, stop: (rows?: number) => void } {
  const bar = new cliProgress.SingleBar({
    stream: io.stderr as unknown as NodeJS.WriteStream,
    format: 'exporting {bar} chunk {value}/{total} | {rows} rows',
    noTTYOutput: forced,
    notTTYSchedule: 1000,
    hideCursor: false,
    clearOnComplete: true
  }, cliProgress.Presets.shades_classic)
  let started = false
  return {
    update: (p) => {
      if (!started) { bar.start(p.chunks, 0, { rows: 0 }); started = true }
      bar.update(p.chunk - 1, { rows: p.rows })
    },
    stop: (rows) => {
      if (!started) return
      bar.update(bar.getTotal(), rows === undefined ? {} : { rows })
      bar.stop()
    }
  }
}

function humanBytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}
