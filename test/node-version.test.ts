// One supported Node range, said once (package.json engines; the README quotes it), that every
// installed dependency accepts: c8/yargs want ^20.19 or ^22.12, better-sqlite3 stops at 26.x.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const semver = createRequire(import.meta.url)('semver') as { satisfies: (version: string, range: string) => boolean }
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> }
const RANGE = '^20.19.0 || >=22.12.0 <27'

const dependencyRanges = Object.entries(lock.packages)
  .map(([where, p]) => ({ name: where.replace(/^.*node_modules\//, ''), range: Array.isArray(p.engines) ? undefined : p.engines?.node }))
  .filter((d): d is { name: string, range: string } => d.name !== '' && d.range !== undefined)

t.test('package.json states the range; the README quotes it; this Node is inside it', async (t) => {
  t.equal(pkg.engines.node, RANGE)
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
  t.match(readme, 'Node.js 20.19+ or 22.12+ (up to 26)', 'the README says the same, in words')
  t.ok(semver.satisfies(process.versions.node, RANGE), `the Node running the tests (${process.versions.node}) is supported`)
})

t.test('every dependency accepts every Node version the range allows', async (t) => {
  t.ok(dependencyRanges.length > 50, `dependencies with an engines field (${dependencyRanges.length})`)
  const inside = ['20.19.0', '20.20.2', '22.12.0', '22.20.0', '24.0.0', '25.0.0', '26.9.0']
  for (const v of inside) {
    t.ok(semver.satisfies(v, RANGE), `${v} is inside the range`)
    const refusing = dependencyRanges.filter((d) => !semver.satisfies(v, d.range)).map((d) => `${d.name} (${d.range})`)
    t.same(refusing, [], `no dependency refuses Node ${v}`)
  }
  // Just outside: each is refused by some dependency, so the range is not narrower than it must be.
  for (const v of ['20.18.1', '21.7.0', '22.11.0', '27.0.0']) {
    t.notOk(semver.satisfies(v, RANGE), `${v} is outside the range`)
    t.ok(dependencyRanges.some((d) => !semver.satisfies(v, d.range)), `some dependency refuses Node ${v}`)
  }
})
