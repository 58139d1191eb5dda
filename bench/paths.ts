// Where the benchmark reads and writes: the repository root, dist/, bench/tmp/ (git-ignored scratch
// space for WAVs, databases, exports and child logs) and the results files.
import path from 'node:path'

const here = path.dirname(new URL(import.meta.url).pathname)
/** The repository root (this file runs as dist/bench/paths.js). */
export const repoRoot = path.resolve(here, '..', '..')
export const benchDir = path.join(repoRoot, 'bench')
export const benchTmp = path.join(benchDir, 'tmp')
export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli.js')
