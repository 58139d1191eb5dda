// `3cx-gateway export …` against the simulator: files in every format, stdout, the summary, and a
// one-line error with exit code 2 for every kind of bad argument.
import t from 'tap'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { loadConfig, type Config } from '../../src/config.js'
import { runExport } from '../../src/reports/export-command.js'
import { injectCallRecords } from '../../src/sim/xapi/record-source.js'
import { syntheticCallRecords } from '../../src/sim/xapi/synthetic-records.js'
import { startSim } from '../pbx/pbx-fixture.js'
import { aroundToday, playCall } from './report-harness.js'
import { PBX } from '../sim/pbx-under-test.js'
import { csvObjects, readXlsx } from './report-readers.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [QUEUE, AGENT] = ['800', '101'].map((n) => PBX.n(n))
const QUEUE_LINE = PBX.didTo(QUEUE).number
const sim = await startSim(t)
const dir = await mkdtemp(path.join(os.tmpdir(), '3cx-export-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const config: Config = loadConfig({ PBX_URL: sim.url, PBX_CLIENT_ID: PBX.clientId, PBX_CLIENT_SECRET: PBX.secret, GATEWAY_KEYS: 'k'.repeat(16), REPORT_MAX_RANGE_DAYS: '7', REPORT_PAGE_SIZE: '10' })

await playCall({ sim }, { from: '+15557654321', to: QUEUE_LINE, answer: AGENT, ringMs: 200, talkMs: 1200, hangup: 'caller' })
await playCall({ sim }, { from: '+15557654322', to: QUEUE_LINE, answer: null, ringMs: 1200 })
const today = aroundToday()
const segments = (): number => sim.ctx.engine.records().flatMap((r) => r.segments).length

class Sink extends Writable {
  text = ''
  isTTY = false
  override _write (chunk: Buffer, _enc: BufferEncoding, cb: () => void): void { this.text += chunk.toString('utf8'); cb() }
}

async function run (...argv: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  const stdout = new Sink()
  const stderr = new Sink()
  const code = await runExport(config, argv, { stdout, stderr })
  return { code, stdout: stdout.text, stderr: stderr.text }
}

t.test('calllog to a CSV file: rows of the calls played, and a summary', async (t) => {
  const out = path.join(dir, 'log.csv')
  const r = await run('calllog', '--from', today.from, '--to', today.to, '--out', out)
  t.equal(r.code, 0, r.stderr)
  const rows = csvObjects(await readFile(out, 'utf8'))
  t.equal(rows.length, segments())
  t.match(r.stderr, new RegExp(`^Exported ${segments()} rows of the call log report .* to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+(\\.\\d)? (B|KiB)\\) in \\d+\\.\\d s\\.\\n$`))
  t.same((await readdir(dir)).filter((f) => f.endsWith('.part')), [], 'no partial file left')
})

t.test('the format follows --out, or --format', async (t) => {
  const xlsxPath = path.join(dir, 'abandoned.xlsx')
  const r = await run('abandoned', '--from', today.from, '--to', today.to, '--queue', QUEUE, '--out', xlsxPath)
  t.equal(r.code, 0, r.stderr)
  const sheet = await readXlsx(await readFile(xlsxPath))
  t.equal(sheet.rows.length, 1)
  t.equal(sheet.rows[0].CallerId, '+15557654322')
  t.ok(sheet.rows[0].CallTime instanceof Date)

  const jsonPath = path.join(dir, 'perf.data')
  const j = await run('queueperf', '--from', today.from, '--to', today.to, '--queue', QUEUE, '--format', 'json', '--out', jsonPath)
  t.equal(j.code, 0, j.stderr)
  const body = JSON.parse(await readFile(jsonPath, 'utf8')) as { rows: Array<Record<string, unknown>>, count: number }
  t.ok(body.count > 0 && body.rows.every((row) => row.QueueReceivedCount === 2 && row.QueueAnsweredCount === 1))
})

t.test('--out - writes to stdout, the summary to stderr', async (t) => {
  const r = await run('history', '--from', today.from, '--to', today.to, '--ext', AGENT, '--out', '-')
  t.equal(r.code, 0, r.stderr)
  const body = JSON.parse(r.stdout) as { rows: Array<Record<string, unknown>>, count: number }
  t.ok(body.count > 0 && body.rows.every((row) => row.SrcDn === AGENT || row.DstDn === AGENT))
  t.match(r.stderr, /^Exported \d+ rows of the call history segments .* to stdout in/)
})

t.test('a long export over several chunks, with --progress on a non-terminal', async (t) => {
  injectCallRecords(sim.ctx, syntheticCallRecords(60, { from: new Date('2026-01-01T06:00:00Z'), spacingMs: 8 * 3600_000 }))
  const out = path.join(dir, 'long.csv')
  const r = await run('history', '--from', '2026-01-01', '--to', '2026-01-20', '--progress', '--out', out)
  t.equal(r.code, 0, r.stderr)
  t.equal(csvObjects(await readFile(out, 'utf8')).length, 180)
  t.match(r.stderr, /exporting .* chunk 3\/3 \| 180 rows\n/, 'the progress bar, drawn because --progress asks for it')
  t.match(r.stderr, /Exported 180 rows/)
})

t.test('bad arguments: one line saying what to fix, exit code 2, nothing written', async (t) => {
  const before = await readdir(dir)
  const mark = sim.ctx.requestLog.length
  const cases: Array<[string[], RegExp]> = [
    [[], /which report\? Add one of history, calllog/],
    [['invoices', '--from', '2026-11-01', '--to', '2026-11-02'], /unknown report "invoices"/],
    [['calllog', '--to', '2026-11-02'], /--from is required/],
    [['calllog', '--from', '2026-11-01'], /--to is required/],
    [['calllog', '--from', '01.11.2026', '--to', '2026-11-02'], /--from \(01\.11\.2026\) is not a date/],
    [['calllog', '--from', '2026-11-05', '--to', '2026-11-01'], /--to .*must be after from/],
    [['calllog', '--from', '2016-11-01', '--to', '2026-11-01'], /--to is more than 5 years after from/],
    [['calllog', '--from', '2026-11-01', '--to', '2026-11-02', '--form', 'csv'], /Unknown option '--form'/],
    [['calllog', 'extra', '--from', '2026-11-01', '--to', '2026-11-02'], /unexpected argument "extra"/],
    [['history', '--from', '2026-11-01', '--to', '2026-11-02', '--queue', '800'], /--queue does not apply to history; it takes --ext/],
    [['abandoned', '--from', '2026-11-01', '--to', '2026-11-02'], /--queue is required/],
    [['abandoned', '--from', '2026-11-01', '--to', '2026-11-02', '--queue', '800', '--wait', 'long'], /--wait must be a whole number/],
    [['calllog', '--from', '2026-11-01', '--to', '2026-11-02', '--format', 'pdf'], /--format must be json, csv or xlsx/],
    [['calllog', '--from', '2026-11-01', '--to', '2026-11-02', '--out', ''], /--out needs a file name/]
  ]
  for (const [argv, message] of cases) {
    const r = await run(...argv)
    t.equal(r.code, 2, argv.join(' '))
    t.match(r.stderr, message)
    t.match(r.stderr, /^export: [^\n]+\nRun "3cx-gateway export --help" for the options\.\n$/, 'one line and a pointer to --help')
  }
  t.same(await readdir(dir), before, 'no file written')
  t.equal(sim.ctx.requestLog.length, mark, 'no PBX request')
  const help = await run('--help')
  t.equal(help.code, 0)
  t.match(help.stdout, /usage: 3cx-gateway export <history\|calllog\|abandoned\|queueperf\|recordings>/)
})

t.test('a PBX refusal: exit code 1, the System Owner hint, no partial file', async (t) => {
  const client = sim.ctx.directory.apiClients[0]
  client.role = 'SystemAdmin'
  t.teardown(() => { client.role = 'SystemOwner' })
  const out = path.join(dir, 'forbidden.csv')
  const r = await run('recordings', '--from', today.from, '--to', today.to, '--out', out)
  t.equal(r.code, 1)
  t.match(r.stderr, /^export: recordings failed: .*System Owner role/)
  t.same((await readdir(dir)).filter((f) => f.startsWith('forbidden')), [])
})

t.test('demo mode has no PBX to export from', async (t) => {
  const demo = loadConfig({})
  const stderr = new Sink()
  t.equal(await runExport(demo, ['calllog', '--from', '2026-11-01', '--to', '2026-11-02'], { stdout: new Sink(), stderr }), 2)
  t.match(stderr.text, /set PBX_URL/)
})
