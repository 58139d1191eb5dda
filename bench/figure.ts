// What one benchmark figure is and what it reports. Every figure with a natural ceiling reports
// the ceiling measured in the same run and the ratio to it.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from './paths.js'

export interface FigureTarget {
  /** e.g. "≥ 0.6 of ceiling". */
  text: string
  /** null when the figure could not be measured. */
  met: boolean | null
}

export interface FigureCeiling {
  /** What the ceiling is, in words. */
  what: string
  value: number
  unit: string
}

export interface FigureResult {
  id: string
  title: string
  /** The headline number. */
  value: number | null
  unit: string
  /** Further headline numbers in words, e.g. "p99 3.1 ms". */
  summary: string
  ceiling: FigureCeiling | null
  /** What the figure is compared with when that is not a number (e.g. counted at the simulator). */
  comparison?: string
  /** value / ceiling (or ceiling / value for times), rounded; null without a ceiling. */
  ratio: number | null
  target: FigureTarget
  /** Everything measured, for results.json. */
  details: Record<string, unknown>
  /** Plain sentences: how it was measured, and why a target was missed if known. */
  notes: string[]
  /** Share of the machine's CPU time stolen by the hypervisor while the figure ran (bench/cpu-steal.ts); set by run.ts. */
  cpuSteal?: number | null
}

export interface BenchOptions {
  quick: boolean
  /** `--rounds N`: rounds a side for the HTTP comparisons (cached and live GET) instead of their default. */
  rounds?: number
  log: (line: string) => void
}

export interface Figure {
  id: string
  title: string
  run: (opts: BenchOptions) => Promise<FigureResult>
}

/**
 * A text with this checkout's location taken out (`file:///…/repo/dist/x.js` → `dist/x.js`):
 * results files are committed, and one machine's paths mean nothing in another clone.
 */
export function withoutCheckoutPaths (text: string, root = repoRoot): string {
  const dir = root.endsWith(path.sep) ? root : root + path.sep
  return text.split(pathToFileURL(dir).href).join('').split(dir).join('')
}

/** The result of a figure that failed to run. */
export function failedFigure (f: Pick<Figure, 'id' | 'title'>, target: string, err: unknown): FigureResult {
  return {
    id: f.id,
    title: f.title,
    value: null,
    unit: '',
    summary: 'not measured',
    ceiling: null,
    ratio: null,
    target: { text: target, met: null },
    details: { error: withoutCheckoutPaths(err instanceof Error ? (err.stack ?? err.message) : String(err)) },
    notes: [`The figure could not be measured: ${withoutCheckoutPaths(err instanceof Error ? err.message.split('\n')[0] : String(err))}`]
  }
}
