// The repository stands on its own and its CI checks can fail: no file points at one machine's
// files or at material outside the repository, every document a comment or doc names exists, and the
// skip and coverage checks run by `npm test` (scripts/) judge what they are given.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
// @ts-expect-error plain JavaScript without type declarations
import { directivesIn, isAllowed, ALLOWED_SKIPS } from '../scripts/skip-check.mjs'
// @ts-expect-error plain JavaScript without type declarations
import { shortfalls, SETS, withoutEmptySources } from '../scripts/coverage-check.mjs'
// @ts-expect-error plain JavaScript without type declarations
import { SECOND_PBX_FILES } from '../scripts/second-pbx.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const SKIP_DIRS = new Set(['node_modules', '.git', '.tap', 'dist', 'coverage', 'data', 'mp3'])
const TEXT = /\.(ts|mts|mjs|js|json|md|yaml|yml|sh|service|ini|env|example)$|^(Dockerfile|run|\.taprc)$/

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP_DIRS.has(e.name) || (e.name.startsWith('.') && e.name !== '.ci' && e.name !== '.taprc')) return []
    const full = path.join(dir, e.name)
    if (e.isDirectory()) return files(full)
    return TEXT.test(e.name) && !e.name.endsWith('package-lock.json') ? [path.relative(root, full)] : []
  })
}

const all = files(root)
const text = (f: string): string => readFileSync(path.join(root, f), 'utf8')

t.test('no file points at one machine\'s files or outside the repository', async (t) => {
  t.ok(all.length > 100, `files scanned: ${all.length}`)
  t.ok(all.includes('src/server.ts') && all.includes('.ci/run'), 'the scan reaches the code and the CI script')
  // A developer's or a build box's own directories (also as file:// URLs, as stack traces write them),
  // and the sibling folder the contracts came from.
  // Built from parts so this guard does not name the paths it forbids.
  const outside = ['sha', 'red'].join('')
  const machineRoots = ['wo' + 'rk', 'ho' + 'me', 'Users\\/[a-z]', 'ro' + 'ot'].join('|')
  const forbidden = new RegExp(`(^|[\\s'"\`(=:]|file:\\/\\/)(\\/(${machineRoots})\\/|[A-Z]:\\\\Users\\\\|(\\.\\.\\/)+${outside}\\/|${outside}\\/(docs|spec)\\/)`, 'm')
  const hits = all.filter((f) => f !== 'test/repository.test.ts' && forbidden.test(text(f)))
    .map((f) => `${f}: ${forbidden.exec(text(f))?.[0].trim()}`)
  t.same(hits, [], 'no absolute machine path, no path outside the repository')
  t.ok(forbidden.test(`at (file:///${'wo' + 'rk'}/clone/dist/x.js:1:2)`), 'a stack trace\'s file URL is caught too')
})

t.test('every document named in a comment or a doc exists', async (t) => {
  const docs = new Set(all.filter((f) => f.endsWith('.md')).map((f) => path.basename(f)))
  t.ok(docs.has('3cx-v20.md') && docs.has('webhooks.md'), 'the contracts are in the repository')
  let mentions = 0
  const missing: string[] = []
  // docs/3cx-v20.md cites files of other repositories (its sources): it is kept as copied.
  for (const f of all.filter((f) => /\.(ts|mjs|md)$/.test(f) && f !== 'docs/3cx-v20.md')) {
    for (const line of text(f).split('\n')) {
      // Prose only: comments and Markdown (code building file names is not a reference).
      if (!f.endsWith('.md') && !/^\s*(\/\/|\*|\/\*)/.test(line)) continue
      for (const m of line.matchAll(/([\w-]+\.md)\b/g)) {
        mentions++
        if (!docs.has(m[1])) missing.push(`${f}: ${m[1]}`)
      }
    }
  }
  t.ok(mentions > 20, `document mentions checked: ${mentions}`)
  t.same(missing, [], 'each named document is in the repository')
})

t.test('every image a Markdown file shows exists, and the README\'s screenshot stays light', async (t) => {
  const images: string[] = []
  for (const f of all.filter((f) => f.endsWith('.md'))) {
    for (const m of text(f).matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(m[1])) continue
      images.push(path.join(path.dirname(f), m[1]))
    }
  }
  t.ok(images.includes('docs/console.webp'), 'the README shows the console')
  t.same(images.filter((i) => !existsSync(path.join(root, i))), [], 'each shown image is in the repository')
  // It was a 223 KB PNG; the first screen as WebP is about 50 KB.
  t.ok(statSync(path.join(root, 'docs/console.webp')).size <= 64 * 1024, 'the console screenshot is at most 64 KB')
})

t.test('the skip check fails on an unlisted skip or todo and allows only its list', async (t) => {
  const tap = [
    'ok 1 - runs # time=1ms',
    '    ok 2 - the console in chromium # SKIP chromium not installed',
    'ok 3 - something else # SKIP no time',
    'not ok 4 - later # TODO write it'
  ].join('\n')
  const found = directivesIn(tap) as Array<{ test: string, directive: string }>
  t.same(found.map((d) => d.directive), ['SKIP', 'SKIP', 'TODO'])
  t.same(found.map((d) => isAllowed('test/console/console-browser.test.ts', d)), [true, false, false])
  t.notOk(isAllowed('test/other.test.ts', found[0]), 'allowed only in its own file')
  // A batch's results (test/batch-runner.ts): a subtest per file, named by its path (tap's combined
  // output indents them; the batch's own results file does not).
  const stored = directivesIn(['# Subtest: test/console/console-browser.test.ts', '    ok 1 - the console in chromium # SKIP chromium not installed'].join('\n')) as Array<{ file: string }>
  t.same(stored.map((d) => d.file), ['test/console/console-browser.test.ts'])
  const batch = directivesIn([
    '# Subtest: test/batches/11-console-browser.test.ts',
    '    # Subtest: test/console/console-browser.test.ts',
    '        ok 1 - the console in chromium # SKIP chromium not installed',
    '    ok 1 - test/console/console-browser.test.ts # time=5ms',
    '    # Subtest: test/calls/x.test.ts',
    '        ok 1 - the console in chromium # SKIP elsewhere',
    '    ok 3 - test/store/pg/y.test.ts # SKIP no PostgreSQL for the tests: none here'
  ].join('\n')) as Array<{ test: string, directive: string, file: string }>
  t.same(batch.map((d) => d.file), ['test/console/console-browser.test.ts', 'test/calls/x.test.ts', 'test/store/pg/y.test.ts'], 'each directive is its file\'s')
  t.same(batch.map((d) => isAllowed(d.file, d)), [true, false, true])
  t.ok((ALLOWED_SKIPS as Array<{ reason: string }>).length <= 3, 'the allow-list stays short')
  t.ok((ALLOWED_SKIPS as Array<{ reason: string }>).every((a) => a.reason.length > 20), 'each allowed skip says why')
})

t.test('the coverage check measures two sets against real floors', async (t) => {
  const sets = SETS as Array<{ name: string, include: string[], exclude: string[], thresholds: Record<string, number> }>
  t.equal(sets.length, 2)
  t.ok(sets[0].exclude.includes('src/sim/**') && sets[1].include.includes('src/sim/**/*.ts'), 'the simulator is measured apart from the gateway')
  t.ok(sets.every((s) => s.include.every((g) => !g.startsWith('test'))), 'test code is never measured')
  t.ok(sets.every((s) => Object.values(s.thresholds).every((v) => v >= 80)), 'no floor is disabled')
  const summary = { lines: { pct: 90 }, statements: { pct: 90 }, functions: { pct: 70 }, branches: { pct: 85 } }
  t.same(shortfalls(summary, { lines: 85, statements: 85, functions: 84, branches: 83 }), ['functions 70% is below the floor of 84%'])
})

t.test('the coverage check reads the .ts file behind a source map that left its sources out', async (t) => {
  // tsx writes `sourcesContent: [null]`; c8 would take that null for the whole source (one line).
  const map = { version: 3, sources: ['file:///x.ts'], sourcesContent: [null], mappings: 'AAAA' }
  t.same(withoutEmptySources(map), { version: 3, sources: ['file:///x.ts'], mappings: 'AAAA' })
  const full = { ...map, sourcesContent: ['const x = 1'] }
  t.equal(withoutEmptySources(full), full, 'a map with its sources is used as it is')
  t.equal(withoutEmptySources(undefined), undefined)
})

t.test('npm run test:second-pbx runs files that exist and name the PBX through the number map (or its API client)', async (t) => {
  const listed = SECOND_PBX_FILES as string[]
  t.ok(listed.length > 0)
  for (const f of listed) t.ok(all.includes(f) && /\bPBX\.(n\(|didTo\(|clientId\b)/.test(text(f)), `${f}: a test file written with pbx.n()`)
  t.equal(JSON.parse(text('package.json')).scripts['test:second-pbx'], 'node scripts/second-pbx.mjs', 'the list is kept in one place')
})

t.test('test children load TypeScript with the tests\' own loader (TS_CHILD_ARGS), never tsx', async (t) => {
  // tsx squashes a module onto a few lines; merged with the other processes' coverage of the same file
  // (same URL, other offsets) it turned the simulator's 98.9 % into 75 % (test/lazy-modules.test.ts, 2026-12).
  const spawnsTsx = all.filter((f) => f.startsWith('test/') && f.endsWith('.ts'))
    .filter((f) => /['"]--import['"],\s*['"]tsx['"]/.test(text(f)))
  t.same(spawnsTsx, [])
})
