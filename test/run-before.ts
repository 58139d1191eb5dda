// tap's `before` script (.taprc), run once before the test processes start: where the PostgreSQL tests
// find their server (test/store/pg/pg-run-before.ts), and the TypeScript loader's cache filled with every
// project file (without it, on a fresh clone the first test processes and their gateway children all
// missed the cache at once and each transformed the same files: ~100 s of CPU of a 4-minute run); the
// fault scenarios' gateway child built as one file; old claim folders of the test workers removed.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { globSync } from 'glob'
import './store/pg/pg-run-before.js'
import { CLAIMS_ROOT, removeStale } from './file-claims.js'
import { buildGatewayChild } from './faults/lib/gateway-child-bundle.js'
// @ts-expect-error plain JavaScript without type declarations
import { compiled } from '../scripts/ts-loader-hooks.mjs'

const root = path.resolve(import.meta.dirname, '..')
const files = globSync(['src/**/*.ts', 'routes/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'], { cwd: root, absolute: true, ignore: ['**/*.d.ts', '**/node_modules/**'] })
await Promise.all([
  ...files.map(async (file) => {
    await (compiled as (url: string, source: string) => Promise<string>)(pathToFileURL(file).href, await readFile(file, 'utf8'))
  }),
  // The fault scenarios' gateway child as one file, for this run (test/faults/lib/gateway-child-bundle.ts).
  buildGatewayChild(),
  // The test workers' claim folders of earlier runs (test/batch-runner.ts): one a run, a few bytes each.
  removeStale(path.join(root, CLAIMS_ROOT), 24 * 3600_000)
])
// esbuild's service process, started by the transforms above, would keep this script from exiting.
const esbuild = await import('esbuild')
esbuild.stop()
