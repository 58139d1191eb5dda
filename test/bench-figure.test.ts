// Benchmark results are committed: a figure that fails must not write this checkout's paths into them.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { failedFigure, withoutCheckoutPaths } from '../bench/figure.js'
import { repoRoot } from '../bench/paths.js'
import { skippedWithoutPg } from '../bench/pg-database.js'
import { readCpuTimes, stealShare } from '../bench/cpu-steal.js'
import { resultsMarkdown } from '../bench/report.js'
import { loadSettings } from '../bench/figures/http-load.js'

t.test('a failed figure keeps its stack without the checkout\'s location', async (t) => {
  const root = path.join(path.sep, 'srv', 'clone')
  const stack = `Error: boom\n    at run (${pathToFileURL(root).href}/dist/bench/figures/startup.js:44:23)\n    at ${root}/bench/tmp/x.log`
  t.equal(withoutCheckoutPaths(stack, root), 'Error: boom\n    at run (dist/bench/figures/startup.js:44:23)\n    at bench/tmp/x.log')
  t.equal(withoutCheckoutPaths('nothing to take out', root), 'nothing to take out')

  // The tests load bench/paths.ts from source, one level below the root (dist/bench is two).
  t.equal(repoRoot, path.resolve(import.meta.dirname, '..'), 'repoRoot is this checkout, from source as from dist')
  const err = new Error(`the gateway exited with 1 before it was ready:\nEADDRINUSE ${path.join(repoRoot, 'bench', 'tmp', 'startup-1')}`)
  const result = failedFigure({ id: 'startup', title: 'Start-up' }, '≤ 1 s', err)
  const written = JSON.stringify(result)
  t.notOk(written.includes(repoRoot), 'no absolute path of this checkout in what results.json gets')
  t.notOk(written.includes(pathToFileURL(repoRoot).href), 'nor its file URL')
  t.match(result.details.error, /bench\/tmp\/startup-1/, 'the relative path stays, so the error still says where')
})

t.test('a PostgreSQL figure that could not run says what stopped it', async (t) => {
  const f = { id: 'tenants-sizing', title: 'Tenants' }
  const none = skippedWithoutPg(f, 'x', 'connect ECONNREFUSED')
  t.equal(none.summary, 'skipped: no PostgreSQL server')
  t.match(none.notes[0], /Start one .*--only tenants-sizing/)
  const small = skippedWithoutPg(f, 'x', 'max_connections is 100', { problem: 'the PostgreSQL server allows too few connections', remedy: 'Raise max_connections to 510' })
  t.equal(small.summary, 'skipped: the PostgreSQL server allows too few connections', 'not "no PostgreSQL server" when one answered')
  t.match(small.notes[0], /too few connections .*max_connections is 100.*Raise max_connections to 510/)
  const local = skippedWithoutPg(f, 'x', '/usr/lib/postgresql/15/bin/initdb is missing', { problem: 'no PostgreSQL server binaries to start a cluster of its own', remedy: 'Install them', local: true })
  t.match(local.notes[0], /^Skipped: no PostgreSQL server binaries to start a cluster of its own \(\/usr\/lib\/postgresql\/15\/bin\/initdb is missing\)\. Install them, then run/, 'a problem on this machine names no server address')
})

t.test('CPU steal: read from /proc/stat\'s cpu line and shown per figure', async (t) => {
  const stat = (steal: number, idle: number): string => `cpu  100 5 50 ${idle} 2 0 3 ${steal} 0 0\ncpu0 50 2 25 ${idle / 2} 1 0 1 ${steal / 2} 0 0\nintr 1\n`
  t.same(readCpuTimes(stat(10, 800)), { steal: 10, total: 970 })
  t.equal(readCpuTimes('intr 1\n'), null, 'no cpu line')
  t.equal(readCpuTimes('cpu  1 2 x\n'), null, 'a line it cannot read')
  t.equal(stealShare(readCpuTimes(stat(10, 800)), readCpuTimes(stat(40, 870))), 0.3, '30 of 100 jiffies stolen')
  t.equal(stealShare(null, readCpuTimes(stat(40, 870))), null)
  t.equal(stealShare(readCpuTimes(stat(10, 800)), readCpuTimes(stat(10, 800))), null, 'no time between the readings')
  if (process.platform === 'linux') t.ok(readCpuTimes(), 'this machine\'s /proc/stat is read')

  const figure = { id: 'x', title: 'X', value: 1, unit: '', summary: 's', ceiling: null, ratio: null, target: { text: 't', met: true }, details: {}, notes: [] }
  const md = resultsMarkdown({ mode: 'quick', durationS: 1, machine: { cpuModel: 'c', cores: 2, memoryGb: 1, node: 'v', os: 'o', date: 'd', commit: 'h' }, figures: [{ ...figure, cpuSteal: 0.31 }, { ...figure, title: 'Y' }] })
  t.match(md, /\| X \| s \| – \| – \| t \| met \| 31 % \|/)
  t.match(md, /\| Y \| s \| – \| – \| t \| met \| – \|/, 'not measured: a dash')
})

t.test('--rounds N changes only the rounds of the HTTP comparisons', async (t) => {
  const log = (): void => {}
  t.same(loadSettings({ quick: false, log }), { connections: 50, seconds: 2, rounds: 10 })
  t.same(loadSettings({ quick: false, log, rounds: 30 }), { connections: 50, seconds: 2, rounds: 30 })
  t.same(loadSettings({ quick: true, log, rounds: 3 }), { connections: 50, seconds: 4, rounds: 3 })
})
