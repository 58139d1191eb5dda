// The fault scenarios' gateway child (gateway-child.ts) as one JavaScript file, built once per tap run
// by its `before` script (test/run-before.ts) with esbuild (npm packages stay imports). A child started
// from it loads no TypeScript through the loader's hooks: ~0.7 s of CPU to its `loaded` instead of
// ~1.3 s (measured 2026-12-07), for each of the ~25 gateways a whole run starts and kills. The file is
// named by the run (runKey: tap's runner), so a test process uses only its own run's build, never an
// older one; without it (a test file run with plain node) the child runs from the sources.
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { removeStale, runKey } from '../../file-claims.js'
import { TS_CHILD_ARGS } from '../../ts-child.js'

const PROJECT = path.resolve(import.meta.dirname, '../../..')
const SOURCE = fileURLToPath(new URL('./gateway-child.ts', import.meta.url))
/**
 * Two levels below the project's root, as src/<folder>/ is: src/version.ts finds package.json at
 * ../../, src/console/index.ts finds public/ at ../../ (both also try the other depth).
 */
const FOLDER = path.join(PROJECT, '.tap', 'gateway-child')

/** This run's build. */
export function bundlePath (): string {
  return path.join(FOLDER, `${runKey()}.mjs`)
}

/** Node arguments that run the gateway child: this run's build if there is one, else the TypeScript source. */
export function gatewayChildArgs (bundle = bundlePath()): string[] {
  return existsSync(bundle) ? [bundle] : [...TS_CHILD_ARGS, SOURCE]
}

/** Builds this run's file (the `before` script) and removes those of runs over a day ago. */
export async function buildGatewayChild (): Promise<string> {
  await mkdir(FOLDER, { recursive: true })
  await removeStale(FOLDER, 24 * 3600_000)
  const out = bundlePath()
  const esbuild = await import('esbuild')
  // A source map beside it (not loaded: the children run without --enable-source-maps) for reading a stack.
  await esbuild.build({ entryPoints: [SOURCE], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', sourcemap: 'external', logLevel: 'error' })
  return out
}
