// Writes bench/results.json (everything measured) and bench/results.md (the readable summary:
// machine, one table row per figure with its ceiling, ratio and target, then the notes, which say
// plainly where a target was missed).
import { writeFileSync } from 'node:fs'
import { RAISED_TARGETS } from './figures/index.js'
import path from 'node:path'
import type { FigureResult } from './figure.js'
import type { MachineDescription } from './machine.js'

export interface BenchResults {
  mode: 'full' | 'quick'
  machine: MachineDescription
  durationS: number
  figures: FigureResult[]
}

const metText = (met: boolean | null): string => (met === null ? 'not measured' : met ? 'met' : '**NOT MET**')

function num (n: number | null, unit: string): string {
  if (n === null) return '–'
  const s = Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(n)
  return unit === '' ? s : `${s} ${unit}`
}

const percent = (share: number | null | undefined): string => (share === null || share === undefined ? '–' : `${Math.round(share * 100)} %`)

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function resultsMarkdown (r: BenchResults): string {
  const m = r.machine
  const missed = r.figures.filter((f) => f.target.met !== true)
  const lines = [
    '# 3cx-gateway benchmark results',
    '',
    `Produced by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` (${r.mode} run, ${Math.round(r.durationS)} s). Earlier results are in the git history of this file.`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPU | ${m.cpuModel}, ${m.cores} cores |`,
    `| memory | ${m.memoryGb} GB |`,
    `| Node.js | ${m.node} |`,
    `| OS | ${m.os} |`,
    `| date | ${m.date} |`,
    `| commit | ${m.commit} |`,
    '',
    `Targets met: ${r.figures.length - missed.length} of ${r.figures.length}.`,
    '',
    'CPU steal: the share of the machine\'s CPU time the hypervisor gave to other guests while the figure ran',
    '(/proc/stat). On a shared VM it comes and goes; a figure measured while it is high is lower and noisier.',
    '',
    '| figure | measured | ceiling / comparison | ratio | target | | CPU steal |',
    '|---|---|---|---|---|---|---|',
    ...r.figures.map((f) => `| ${cell(f.title)} | ${cell(f.summary)} | ${f.ceiling === null ? cell(f.comparison ?? '–') : cell(`${num(f.ceiling.value, f.ceiling.unit)} (${f.ceiling.what})`)} | ${f.ratio ?? '–'} | ${cell(f.target.text)} | ${metText(f.target.met)} | ${percent(f.cpuSteal)} |`),
    ''
  ]
  if (missed.length > 0) {
    lines.push('## Targets not met', '')
    for (const f of missed) lines.push(`- **${f.title}**: ${f.summary}; target ${f.target.text}. ${f.notes.join(' ')}`.trimEnd())
    lines.push('')
  }
  lines.push('## Targets raised', '', ...RAISED_TARGETS.map((x) => `- ${x}`), '')
  lines.push('## Notes per figure', '')
  for (const f of r.figures) {
    if (f.notes.length === 0) continue
    lines.push(`- **${f.title}**: ${f.notes.join(' ')}`)
  }
  lines.push('', 'Every number, with each run, is in `bench/results.json`.', '')
  return lines.join('\n')
}

export function writeResults (dir: string, r: BenchResults): { json: string, md: string } {
  const json = path.join(dir, 'results.json')
  const md = path.join(dir, 'results.md')
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`)
  writeFileSync(md, resultsMarkdown(r))
  return { json, md }
}
