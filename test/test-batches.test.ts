// The batches (test/test-batches.ts): every test file runs exactly once in `npm test`, .taprc agrees
// with the table, and a file run in a batch behaves as it does alone (its `t` is its own subtest).
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { globSync } from 'glob'
import { batchFiles, importsTransitively } from './batch-runner.js'
import { BATCHES, BULK_NICE, TIMED_BATCHES, batchFile, batchNice } from './test-batches.js'
import { TS_CHILD_ARGS } from './ts-child.js'
import { stateFile } from './store/pg/pg-resolve.js'
// @ts-expect-error plain JavaScript without type declarations
import { directivesIn, isAllowed } from '../scripts/skip-check.mjs'

const root = path.resolve(import.meta.dirname, '..')
const run = promisify(execFile)

t.test('every test file runs exactly once, in one batch', async (t) => {
  const runs = new Map<string, string[]>()
  const add = (file: string, where: string): void => { runs.set(file, [...(runs.get(file) ?? []), where]) }
  for (const [name] of BATCHES) for (const f of batchFiles(name)) add(f, `batch ${name}`)
  const all = globSync('test/**/*.test.ts', { cwd: root, posix: true, ignore: 'test/batches/**' })
  t.same(all.filter((f) => runs.get(f)?.length !== 1).map((f) => `${f}: ${(runs.get(f) ?? ['never']).join(', ')}`), [],
    'add a new folder\'s files to a batch in test/test-batches.ts')
  t.same([...runs.keys()].filter((f) => !all.includes(f)), [], 'nothing else')
})

t.test('.taprc runs the batch files, and each batch has its file', async (t) => {
  const include = [...readFileSync(path.join(root, '.taprc'), 'utf8').matchAll(/^ {2}- "(test\/[^"]+)"$/gm)].map((m) => m[1])
  t.same(include, ['test/batches/*.test.ts'])
  const files = globSync('test/batches/*.test.ts', { cwd: root, posix: true }).sort()
  t.same(files, BATCHES.map(([name]) => batchFile(name)), 'named by their place, so tap starts them in this order')
  for (const [name] of BATCHES) {
    t.match(readFileSync(path.join(root, batchFile(name)), 'utf8'), `await runBatch('${name}')`, name)
    t.ok(batchFiles(name).length > 0, `batch ${name} runs files`)
  }
})

t.test('the fault scenarios run at normal priority, the other batches lower theirs, in every thread', async (t) => {
  const names = BATCHES.map(([n]) => n)
  t.same([...TIMED_BATCHES].filter((n) => !names.includes(n)), [], 'every timed batch is in the table')
  t.equal(batchNice('tenant-faults'), 0)
  t.equal(batchNice('gateway'), BULK_NICE)
  t.ok(BULK_NICE > 0)
  // A child lowers itself after starting a worker thread (as V8 and libuv start theirs): every thread of it is lowered.
  const script = `import { lowerPriority } from './test/batch-runner.ts'
import { Worker } from 'node:worker_threads'
import { readdirSync } from 'node:fs'
import os from 'node:os'
const w = new Worker('setInterval(() => {}, 1000)', { eval: true })
await new Promise((resolve) => w.once('online', resolve))
lowerPriority(${BULK_NICE})
lowerPriority(1)
const tasks = readdirSync('/proc/self/task').map(Number)
console.log(JSON.stringify(tasks.map((id) => os.getPriority(id))))
process.exit(0)`
  const { stdout } = await run(process.execPath, [...TS_CHILD_ARGS, '--input-type=module', '-e', script], { cwd: root })
  const nices: number[] = JSON.parse(stdout)
  t.ok(nices.length > 2, 'several threads')
  t.same([...new Set(nices)], [BULK_NICE], 'every thread at BULK_NICE, not raised again by a lower value')
})

t.test('files that use PostgreSQL are found through their helpers', async (t) => {
  t.ok(importsTransitively('test/store/pg/pg-outbox.test.ts', 'test/store/pg/pg-test-db.ts'), 'directly')
  t.ok(importsTransitively('test/replicas/standby-makecall.test.ts', 'test/store/pg/pg-test-db.ts'), 'through pg-gateway-fixture')
  t.notOk(importsTransitively('test/calls/call-model.test.ts', 'test/store/pg/pg-test-db.ts'), 'not a file without')
  t.notOk(importsTransitively('test/no-such-file.ts', 'test/store/pg/pg-test-db.ts'), 'a missing file reaches nothing')
  t.ok(importsTransitively('test/fixtures/batch/multi-line-import.ts', 'test/store/pg/pg-test-db.ts'), 'through an import spread over lines')
  t.ok(existsSync(path.join(root, 'test/store/pg/pg-test-db.ts')))
})

t.test('in a batch, each file\'s t is its own subtest: its name, its jobs, its teardown before the next file', async (t) => {
  const { stdout, stderr } = await run(process.execPath, [...TS_CHILD_ARGS, 'test/fixtures/batch/run.ts'], { cwd: root })
  const notes = stderr.split('\n').filter((l) => l.startsWith('NOTE ')).map((l) => l.slice(5))
  t.same(notes, [
    'first: t.name=test/fixtures/batch/first.ts jobs=2',
    'first: teardown',
    'second: t.name=test/fixtures/batch/second.ts jobs=1'
  ])
  t.match(stdout, /# Subtest: test\/fixtures\/batch\/first\.ts\n {4}# Subtest: one/, 'the file\'s tests are its subtest\'s')
  t.match(stdout, /ok 1 - test\/fixtures\/batch\/first\.ts/)
  t.match(stdout, /ok 2 - test\/fixtures\/batch\/second\.ts/)
  t.match(stdout, /# \{ total: 3, pass: 3 \}|1\.\.2/)
})

t.test('a batch whose file leaves something open fails soon after its last file, saying what is open', async (t) => {
  const started = Date.now()
  const failed = await run(process.execPath, [...TS_CHILD_ARGS, 'test/fixtures/batch/run-leaky.ts'], { cwd: root, env: { ...process.env, BATCH_LEAK_GRACE_MS: '300' } })
    .then(() => null, (err: { code?: number, stdout?: string, stderr?: string }) => err)
  t.equal(failed?.code, 1, 'exit code 1')
  t.match(failed?.stderr, /batch: still open 300 ms after its files ended: .*TCPServerWrap/)
  t.match(failed?.stdout, /ok 2 - test\/fixtures\/batch\/leaky\.ts/, 'its tests themselves passed')
  t.ok(Date.now() - started < 30_000, 'not after tap\'s timeout')
})

t.test('without PostgreSQL a batch skips each file that uses it, with the allowed reason, and runs the others', async (t) => {
  // The batch reads the run's choice from the state file of its parent (this process), as a test
  // process does from tap's runner (test/store/pg/pg-resolve.ts).
  const state = stateFile(process.pid)
  writeFileSync(state, JSON.stringify({ choice: { skip: 'no PostgreSQL for the tests: none in this test' } }))
  t.teardown(() => { rmSync(state, { force: true }) })
  const env = { ...process.env }
  delete env.PG_URL
  const { stdout } = await run(process.execPath, [...TS_CHILD_ARGS, 'test/fixtures/batch/run-no-pg.ts'], { cwd: root, env })
  t.match(stdout, /ok 1 - test\/fixtures\/batch\/first\.ts # time=/, 'a file without PostgreSQL runs')
  t.match(stdout, /ok 2 - test\/fixtures\/batch\/uses-pg\.ts # SKIP no PostgreSQL for the tests: none in this test/)
  t.match(stdout, /ok 3 - test\/fixtures\/batch\/second\.ts # time=/, 'and so does the one after it')
  t.same((directivesIn(stdout) as Array<{ file?: string }>).map((d) => isAllowed(d.file ?? '', d) as boolean), [true], 'the skip check allows it')
})
