// The batches and workers (test/test-batches.ts): every test file runs exactly once in `npm test`, .taprc
// agrees with the table, a file run in a batch behaves as it does alone (its `t` is its own subtest), and
// workers on one queue take each file once.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { globSync } from 'glob'
import { allTestFiles, importsTransitively, queueFiles } from './batch-runner.js'
import { CLAIMS_ROOT, claimDir, removeStale, runKey } from './file-claims.js'
import { BATCHES, BULK_NICE, TIMED_FILES, UNKNOWN_FILE_SECONDS, batchFile, longestFirst, queueNice } from './test-batches.js'
import { TS_CHILD_ARGS, execUninstrumented } from './ts-child.js'
import { stateFile } from './store/pg/pg-resolve.js'
// @ts-expect-error plain JavaScript without type declarations
import { directivesIn, isAllowed } from '../scripts/skip-check.mjs'
// @ts-expect-error plain JavaScript without type declarations
import { fileSeconds } from '../scripts/test-durations.mjs'

const root = path.resolve(import.meta.dirname, '..')

t.test('every test file runs exactly once: in one fixed batch or in one queue', async (t) => {
  const runs = new Map<string, string[]>()
  const add = (file: string, where: string): void => { runs.set(file, [...(runs.get(file) ?? []), where]) }
  for (const [name, plan] of BATCHES) if ('files' in plan) for (const f of plan.files) add(f, `batch ${name}`)
  for (const q of ['timed', 'bulk'] as const) for (const f of queueFiles(q)) add(f, `queue ${q}`)
  const all = globSync('test/**/*.test.ts', { cwd: root, posix: true, ignore: 'test/batches/**' })
  t.same(all.filter((f) => runs.get(f)?.length !== 1).map((f) => `${f}: ${(runs.get(f) ?? ['never']).join(', ')}`), [])
  t.same([...runs.keys()].filter((f) => !all.includes(f)), [], 'nothing else: every fixed and timed file exists')
  t.same(allTestFiles().sort(), all.sort())
  const served = new Set(BATCHES.flatMap(([, plan]) => 'queues' in plan ? plan.queues : []))
  t.same([...served].sort(), ['bulk', 'timed'], 'some worker serves each queue')
})

t.test('.taprc runs the batch files, and each batch has its file', async (t) => {
  const include = [...readFileSync(path.join(root, '.taprc'), 'utf8').matchAll(/^ {2}- "(test\/[^"]+)"$/gm)].map((m) => m[1])
  t.same(include, ['test/batches/*.test.ts'])
  const files = globSync('test/batches/*.test.ts', { cwd: root, posix: true }).sort()
  t.same(files, BATCHES.map(([name]) => batchFile(name)), 'named by their place, so tap starts them in this order')
  for (const [name] of BATCHES) t.match(readFileSync(path.join(root, batchFile(name)), 'utf8'), `await runBatch('${name}')`, name)
  t.throws(() => batchFile('nope'), /no batch "nope"/)
  const jobs = Number(/^jobs: (\d+)$/m.exec(readFileSync(path.join(root, '.taprc'), 'utf8'))?.[1])
  t.ok(jobs >= BATCHES.filter(([, plan]) => 'queues' in plan).length, 'every worker runs from the start (jobs in .taprc)')
})

t.test('the longest files first, a file not measured yet as UNKNOWN_FILE_SECONDS, ties by path', async (t) => {
  t.same(longestFirst(['a', 'b', 'c', 'd'], { a: 1, b: 9, d: UNKNOWN_FILE_SECONDS }), ['b', 'c', 'd', 'a'])
  const bulk = queueFiles('bulk')
  const seconds = JSON.parse(readFileSync(path.join(root, 'test/file-durations.json'), 'utf8')) as Record<string, number>
  t.ok(Object.keys(seconds).length > 100, 'test/file-durations.json has the measured files')
  t.same(bulk, longestFirst(bulk, seconds), 'the bulk queue is in that order')
  t.same(queueFiles('timed').sort(), [...TIMED_FILES].sort(), 'the timed queue is the fault scenarios')
})

t.test('scripts/test-durations.mjs reads each file\'s time from a worker\'s TAP, nothing nested', async (t) => {
  const tap = ['# Subtest: test/a.test.ts', '    ok 1 - test/nested.test.ts # time=99000ms', 'ok 1 - test/a.test.ts # time=12345.678ms',
    'not ok 2 - test/b/c.test.ts # time=40ms', 'ok 3 - every file was taken by another worker', ''].join('\n')
  t.same(fileSeconds(tap), { 'test/a.test.ts': 12.3, 'test/b/c.test.ts': 0 })
})

t.test('the fault scenarios run at normal priority, the other files lower theirs, in every thread', async (t) => {
  t.equal(queueNice('timed'), 0)
  t.equal(queueNice('bulk'), BULK_NICE)
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
  const { stdout } = await execUninstrumented([...TS_CHILD_ARGS, '--input-type=module', '-e', script], { cwd: root })
  const nices: number[] = JSON.parse(stdout)
  t.ok(nices.length > 2, 'several threads')
  t.same([...new Set(nices)], [BULK_NICE], 'every thread at BULK_NICE, not raised again by a lower value')
})

t.test('two workers on one queue run each file once, the longest first, and lower their priority for the bulk queue', async (t) => {
  const claims = t.testdir({})
  const worker = async (): Promise<{ stdout: string, stderr: string }> => await execUninstrumented([...TS_CHILD_ARGS, 'test/fixtures/batch/run-queue.ts'],
    { cwd: root, env: { ...process.env, TEST_QUEUE_DIR: claims } })
  const [a, b] = await Promise.all([worker(), worker()])
  const ran = (out: string): string[] => [...out.matchAll(/^ok \d+ - (test\/fixtures\/batch\/\S+\.ts)/gm)].map((m) => m[1])
  const all = [...ran(a.stdout), ...ran(b.stdout)]
  t.same(all.sort(), ['test/fixtures/batch/first.ts', 'test/fixtures/batch/queued.ts', 'test/fixtures/batch/second.ts'], `each file once (${a.stdout.length + b.stdout.length} bytes of TAP)`)
  t.same(readdirSync(claims).sort(), ['test%fixtures%batch%first.ts', 'test%fixtures%batch%queued.ts', 'test%fixtures%batch%second.ts'], 'a claim for each')
  const nices = [a.stderr, b.stderr].flatMap((e) => [...e.matchAll(/^NOTE queued: nice=(\d+)$/gm)].map((m) => Number(m[1])))
  t.same(nices, [BULK_NICE], 'the file of the bulk queue ran at BULK_NICE')
  // A worker that finds every file taken passes, as tap would count a process without a test as skipped.
  const late = await worker()
  t.same(ran(late.stdout), [])
  t.match(late.stdout, /ok 1 - every file was taken by another worker/)
})

t.test('the claim folder: TEST_QUEUE_DIR, else named by the parent process; run-before removes old ones', async (t) => {
  const saved = process.env.TEST_QUEUE_DIR
  t.teardown(() => { if (saved === undefined) delete process.env.TEST_QUEUE_DIR; else process.env.TEST_QUEUE_DIR = saved })
  process.env.TEST_QUEUE_DIR = '/tmp/x'
  t.equal(claimDir(), '/tmp/x')
  delete process.env.TEST_QUEUE_DIR
  t.equal(path.dirname(claimDir()), path.join(root, CLAIMS_ROOT))
  // Processes with one parent (a run's workers) share the key; a process with another parent has its own.
  const keyOf = async (): Promise<string> => (await execUninstrumented([...TS_CHILD_ARGS, '--input-type=module', '-e', "import { runKey } from './test/file-claims.ts'; console.log(runKey())"], { cwd: root })).stdout.trim()
  const [a, b] = await Promise.all([keyOf(), keyOf()])
  t.equal(a, b, 'two children of this process: one run')
  t.match(a, new RegExp(`^${process.pid}-\\d+$`), 'named by this process (their parent): its pid and start time')
  t.not(runKey(), a, 'this process, whose parent is another: another run')
  const claims = t.testdir({ old: {}, fresh: {} })
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000)
  utimesSync(path.join(claims, 'old'), twoDaysAgo, twoDaysAgo)
  await removeStale(claims, 24 * 3600_000)
  t.same(readdirSync(claims), ['fresh'], 'a folder older than a day is removed, a recent one (another run now) stays')
  await removeStale(path.join(claims, 'missing'), 0)
  t.match(readFileSync(path.join(root, 'test/run-before.ts'), 'utf8'), 'removeStale(path.join(root, CLAIMS_ROOT), 24 * 3600_000)', 'run-before removes old folders')
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
  const { stdout, stderr } = await execUninstrumented([...TS_CHILD_ARGS, 'test/fixtures/batch/run.ts'], { cwd: root })
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
  const failed = await execUninstrumented([...TS_CHILD_ARGS, 'test/fixtures/batch/run-leaky.ts'], { cwd: root, env: { ...process.env, BATCH_LEAK_GRACE_MS: '300' } })
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
  const { stdout } = await execUninstrumented([...TS_CHILD_ARGS, 'test/fixtures/batch/run-no-pg.ts'], { cwd: root, env })
  t.match(stdout, /ok 1 - test\/fixtures\/batch\/first\.ts # time=/, 'a file without PostgreSQL runs')
  t.match(stdout, /ok 2 - test\/fixtures\/batch\/uses-pg\.ts # SKIP no PostgreSQL for the tests: none in this test/)
  t.match(stdout, /ok 3 - test\/fixtures\/batch\/second\.ts # time=/, 'and so does the one after it')
  t.same((directivesIn(stdout) as Array<{ file?: string }>).map((d) => isAllowed(d.file ?? '', d) as boolean), [true], 'the skip check allows it')
})
