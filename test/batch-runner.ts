// Runs test files in one process (test/test-batches.ts), one after another, each inside a subtest named
// by its path: what a file's tests print, its teardowns and its timeout stay its own.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { register } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { globSync } from 'glob'
import { enterBatch, root, runningFile } from './batch-tap.js'
import { claim, claimDir } from './file-claims.js'
import { startCpuMeter } from './file-cpu.js'
import { BATCHES, BULK_NICE, TIMED_FILES, longestFirst, queueNice, type QueueName } from './test-batches.js'

const PROJECT = path.resolve(import.meta.dirname, '..')
const PG_TEST_DB = 'test/store/pg/pg-test-db.ts'
/**
 * A file's own limit in a worker (a file may set a longer one: t.setTimeout). It catches a hung file,
 * not a slow one, so it is longer than .taprc's `timeout` for a file run alone: at the bulk priority a
 * file waits for the cores the fault scenarios hold, and on a slow machine routes-fuzz (4 s alone) took
 * 112 s and failed a whole run at the 120 s it had (2026-12-07).
 */
const FILE_TIMEOUT_MS = 300_000
/** How long a batch may take to exit after its last file ended (BATCH_LEAK_GRACE_MS: its test). */
const LEAK_GRACE_MS = Number(process.env.BATCH_LEAK_GRACE_MS ?? 10_000)
/** The longest limit a file sets itself (test/replicas/tenant-faults.test.ts). */
const LONGEST_FILE_MS = 300_000

/** Every test file, sorted, paths from the project's root. */
export function allTestFiles (): string[] {
  return globSync('test/**/*.test.ts', { cwd: PROJECT, posix: true, ignore: 'test/batches/**' }).sort()
}

/** The files of queue `name`, longest first (test/file-durations.json): each file in exactly one queue. */
export function queueFiles (name: QueueName): string[] {
  const fixed = new Set(BATCHES.flatMap(([, plan]) => 'files' in plan ? plan.files : []))
  const files = name === 'timed' ? [...TIMED_FILES] : allTestFiles().filter((f) => !fixed.has(f) && !TIMED_FILES.includes(f))
  return longestFirst(files, durations())
}

/** Measured seconds per file (scripts/test-durations.mjs writes them); none if the file is missing or damaged. */
function durations (): Record<string, number> {
  try {
    return JSON.parse(readFileSync(path.join(PROJECT, 'test/file-durations.json'), 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
}

/** Relative imports of a test file, followed through test helpers: does it reach `target`? */
export function importsTransitively (file: string, target: string, seen = new Set<string>()): boolean {
  if (file === target) return true
  if (seen.has(file) || !file.startsWith('test/') || !existsSync(path.join(PROJECT, file))) return false
  seen.add(file)
  const source = readFileSync(path.join(PROJECT, file), 'utf8')
  // Import and export statements, one-line or spread over lines (`import {\n a,\n b\n} from './x.js'`).
  for (const m of source.matchAll(/^(?:import|export)\b(?:[^'"]*?\bfrom )?'(\.{1,2}\/[^']+)'/gm)) {
    const next = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1].replace(/\.js$/, '.ts')))
    if (importsTransitively(next, target, seen)) return true
  }
  return false
}

/** Runs batch `name` (test/test-batches.ts): its files, or as a worker, what it takes from its queues. */
export async function runBatch (name: string): Promise<void> {
  const plan = BATCHES.find(([n]) => n === name)?.[1]
  if (plan === undefined) throw new Error(`no batch "${name}" in test/test-batches.ts`)
  if ('files' in plan) {
    lowerPriority(BULK_NICE)
    await runFiles(plan.files)
    return
  }
  await runQueues(plan.queues.map((q) => [q, queueFiles(q)]), claimDir())
}

/**
 * Lowers this process's priority to `nice` (never raises it: that needs privileges). On Linux a
 * priority belongs to a thread, so each of the process's threads is lowered (V8's and libuv's
 * helpers started before this); threads and child processes started later inherit it.
 */
export function lowerPriority (nice: number): void {
  let threads = [0]
  try {
    threads = readdirSync('/proc/self/task').map(Number)
  } catch {}
  for (const id of threads) {
    try {
      if (nice > os.getPriority(id)) os.setPriority(id, nice)
    } catch {} // a thread that ended meanwhile
  }
}

/**
 * Runs test files (paths from the project's root) one after another in this process. Without a
 * PostgreSQL server, each file that uses one is skipped whole, with the reason a file alone gives.
 */
export async function runFiles (files: readonly string[]): Promise<void> {
  const batch = startBatch(files.length)
  for (const file of files) await batch.run(file)
  batch.end()
}

/**
 * A worker: runs, queue after queue, each file of `queues` that no other worker of the run has taken
 * (a file is taken by creating its claim in `claims`, which only one process can do), at the queue's
 * priority. Workers walk the same lists in the same order, so the longest files go first.
 */
export async function runQueues (queues: ReadonlyArray<readonly [QueueName, readonly string[]]>, claims: string): Promise<void> {
  mkdirSync(claims, { recursive: true })
  const batch = startBatch(queues.reduce((n, [, files]) => n + files.length, 0))
  let ran = 0
  for (const [queue, files] of queues) {
    lowerPriority(queueNice(queue))
    for (const file of files) {
      if (!claim(claims, file)) continue
      await batch.run(file)
      ran++
    }
  }
  // tap counts a process without a test as skipped; a worker the others left nothing to is not.
  if (ran === 0) root.pass('every file was taken by another worker')
  batch.end()
}

/** This process as a batch: run files one at a time, each as a subtest of its own; then end. */
function startBatch (files: number): { run: (file: string) => Promise<void>, end: () => void } {
  // Before pg-test-db loads: alone, it makes its file's tests skip without a server; here the runner does.
  enterBatch()
  register('./batch-hooks.mjs', import.meta.url)
  root.setTimeout(files * FILE_TIMEOUT_MS + LONGEST_FILE_MS)
  let noPg: Promise<string | undefined> | undefined
  const pgSkip = async (): Promise<string | undefined> => {
    noPg ??= import('./store/pg/pg-test-db.js').then(async ({ pgChoice }) => {
      const choice = await pgChoice()
      return 'skip' in choice ? choice.skip : undefined
    })
    return await noPg
  }
  return {
    run: async (file) => {
      const skip = importsTransitively(file, PG_TEST_DB) ? await pgSkip() ?? false : false
      const meter = startCpuMeter()
      await root.test(file, { timeout: FILE_TIMEOUT_MS, skip }, async (t) => {
        runningFile(t)
        await import(pathToFileURL(path.join(PROJECT, file)).href)
      })
      meter.stop(file)
    },
    end: () => {
      root.end()
      // Every test closes what it opens. Alone, a file that left a server, socket or timer open keeps its
      // process from exiting until tap's timeout; here it would hold the whole batch. So the batch fails
      // soon after its last file, naming what is still open (run the files alone to find which one).
      setTimeout(() => {
        process.stderr.write(`batch: still open ${LEAK_GRACE_MS} ms after its files ended: ${process.getActiveResourcesInfo().join(', ')}\n`)
        process.exit(1)
      }, LEAK_GRACE_MS).unref()
    }
  }
}
