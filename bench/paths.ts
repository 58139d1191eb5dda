// Where the benchmark reads and writes: the repository root, dist/, bench/tmp/ (git-ignored scratch
// space for WAVs, databases, exports and child logs) and the results files.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/**
 * The repository root. This file runs as dist/bench/paths.js under `npm run bench` and as
 * bench/paths.ts under the tests, so the depth depends on which (two levels up from the source
 * file would be the checkout's parent directory).
 */
export const repoRoot = path.basename(path.dirname(here)) === 'dist'
  ? path.resolve(here, '..', '..')
  : path.resolve(here, '..')
export const benchDir = path.join(repoRoot, 'bench')
export const benchTmp = path.join(benchDir, 'tmp')
export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli.js')
