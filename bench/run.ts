// `npm run bench [-- --quick] [-- --only id,id] [-- --cpu-prof] [-- --rounds N]`: runs every figure against the simulator
// on this machine, one after another, and writes bench/results.json and bench/results.md (with --only:
// to bench/tmp/, kept with --keep). --cpu-prof: each gateway process writes a V8 CPU profile to
// bench/profiles/<figure>-gateway.cpuprofile (open it in Chrome DevTools, or summarise it with
// `node dist/bench/profile-summary.js FILE`); profiling slows the gateway, so its figures are not results. --rounds N:
// the HTTP comparisons run N rounds a side (default 10), results to bench/tmp/ as with --only. Benchmarks
// report; they do not fail (exit 0 even when a target is missed; 1 only when the run itself broke).
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { failedFigure, type Figure, type FigureResult } from './figure.js'
import { describeMachine } from './machine.js'
import { readCpuTimes, stealShare } from './cpu-steal.js'
import { benchDir, benchTmp } from './paths.js'
import { writeResults } from './report.js'
import { stopAllChildren } from './processes.js'
import { FIGURES, TARGETS } from './figures/index.js'
import { profileGateways } from './stack.js'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, keep: { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, rounds: { type: 'string' } }, strict: true })
const quick = values.quick === true
const rounds = values.rounds === undefined ? undefined : Number(values.rounds)
if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1 || rounds > 100)) {
  process.stderr.write(`bench: --rounds takes a whole number from 1 to 100, got "${values.rounds ?? ''}"\n`)
  process.exit(2)
}
const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean)
const selected: Figure[] = only === undefined ? FIGURES : FIGURES.filter((f) => only.includes(f.id))
if (selected.length === 0) {
  process.stderr.write(`bench: no figure matches --only ${values.only ?? ''}; figures: ${FIGURES.map((f) => f.id).join(', ')}\n`)
  process.exit(2)
}

const log = (line: string): void => { process.stdout.write(`${line}\n`) }
const machine = describeMachine()
log(`3cx-gateway benchmark (${quick ? 'quick' : 'full'}) on ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}`)
mkdirSync(benchTmp, { recursive: true })
if (values['cpu-prof'] === true) profileGateways(path.join(benchDir, 'profiles'))

const started = performance.now()
const results: FigureResult[] = []
for (const figure of selected) {
  log(`▶ ${figure.title}`)
  const t0 = performance.now()
  const cpuBefore = readCpuTimes()
  let result: FigureResult
  try {
    result = await figure.run({ quick, log, ...(rounds === undefined ? {} : { rounds }) })
  } catch (err) {
    result = failedFigure(figure, TARGETS[figure.id] ?? '', err)
  }
  await stopAllChildren()
  result.cpuSteal = stealShare(cpuBefore, readCpuTimes())
  results.push(result)
  const met = result.target.met === null ? 'NOT MEASURED' : result.target.met ? 'met' : 'NOT MET'
  const steal = result.cpuSteal === null || result.cpuSteal === undefined ? '' : `, CPU steal ${Math.round(result.cpuSteal * 100)} %`
  log(`  ${result.summary}${result.ratio !== null ? ` — ratio ${result.ratio}` : ''} — target ${result.target.text}: ${met} (${Math.round((performance.now() - t0) / 1000)} s${steal})`)
}

const files = writeResults(only === undefined && values['cpu-prof'] !== true && rounds === undefined ? benchDir : benchTmp, { mode: quick ? 'quick' : 'full', machine, durationS: (performance.now() - started) / 1000, figures: results })
if (values.keep !== true) rmSync(benchTmp, { recursive: true, force: true })
log(`wrote ${files.json} and ${files.md}`)
// Figures close what they open; this only guards against a handle a broken figure left behind.
process.exit(0)
