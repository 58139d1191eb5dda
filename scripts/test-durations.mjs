#!/usr/bin/env node
// Writes test/file-durations.json: how long each test file took in the last `npm test`, read from the
// TAP tap keeps in .tap/test-results (each batch process reports one subtest per file, named by its path,
// with its time). The test workers take the longest files first (test/test-batches.ts), so the
// processes end together. Run it after a whole `npm test` on a quiet machine; commit the result.
// Usage: node scripts/test-durations.mjs [--root <project dir>]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

/** `{ file: seconds }` from one batch's TAP: its top-level subtests named by a test file's path. */
export function fileSeconds (tap) {
  const found = {}
  for (const m of tap.matchAll(/^(?:not )?ok \d+ - (test\/\S+\.test\.ts) # time=([\d.]+)ms$/gm)) {
    found[m[1]] = Math.round(Number(m[2]) / 100) / 10
  }
  return found
}

function main () {
  const { values } = parseArgs({ options: { root: { type: 'string' } } })
  const root = values.root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  const dir = path.join(root, '.tap/test-results/test/batches')
  if (!existsSync(dir)) {
    console.error(`no test results in ${dir}: run \`npm test\` first`)
    process.exitCode = 1
    return
  }
  const all = {}
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.tap'))) Object.assign(all, fileSeconds(readFileSync(path.join(dir, name), 'utf8')))
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1)))
  writeFileSync(path.join(root, 'test/file-durations.json'), JSON.stringify(sorted, null, 2) + '\n')
  console.log(`test/file-durations.json: ${Object.keys(sorted).length} files`)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
