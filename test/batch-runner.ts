// Runs a batch of test files (test/test-batches.ts) in one process, one after another, each inside a
// subtest named by its path: what a file's tests print, its teardowns and its timeout stay its own.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { register } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { globSync } from 'glob'
import { enterBatch, root, runningFile } from './batch-tap.js'
import { BATCHES, batchNice } from './test-batches.js'

const PROJECT = path.resolve(import.meta.dirname, '..')
const PG_TEST_DB = 'test/store/pg/pg-test-db.ts'
/** A file's own limit, as `timeout` in .taprc gives a file run alone (a file may set a longer one: t.setTimeout). */
const FILE_TIMEOUT_MS = 120_000
/** How long a batch may take to exit after its last file ended (BATCH_LEAK_GRACE_MS: its test). */
const LEAK_GRACE_MS = Number(process.env.BATCH_LEAK_GRACE_MS ?? 10_000)
/** The longest limit a file sets itself (test/replicas/tenant-faults.test.ts). */
const LONGEST_FILE_MS = 300_000

/** The files of batch `name`, sorted, paths from the project's root (see BATCHES for exact names and globs). */
export function batchFiles (name: string): string[] {
  const globs = BATCHES.find(([n]) => n === name)?.[1]
  if (globs === undefined) throw new Error(`no batch "${name}" in test/test-batches.ts`)
  const named = new Set(BATCHES.flatMap(([n, g]) => n === name ? [] : g.filter((f) => !f.includes('*'))))
  return globSync([...globs], { cwd: PROJECT, posix: true }).filter((f) => !named.has(f)).sort()
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

/** Runs batch `name` (test/test-batches.ts). */
export async function runBatch (name: string): Promise<void> {
  lowerPriority(batchNice(name))
  await runFiles(batchFiles(name))
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
  // Before pg-test-db loads: alone, it makes its file's tests skip without a server; here the runner does.
  enterBatch()
  register('./batch-hooks.mjs', import.meta.url)
  const pgFiles = new Set(files.filter((f) => importsTransitively(f, PG_TEST_DB)))
  let noPg: string | undefined
  if (pgFiles.size > 0) {
    const { pgChoice } = await import('./store/pg/pg-test-db.js')
    const choice = await pgChoice()
    if ('skip' in choice) noPg = choice.skip
  }
  root.setTimeout(files.length * FILE_TIMEOUT_MS + LONGEST_FILE_MS)
  const runs = files.map(async (file) => await root.test(file, { timeout: FILE_TIMEOUT_MS, skip: pgFiles.has(file) ? noPg ?? false : false }, async (t) => {
    runningFile(t)
    await import(pathToFileURL(path.join(PROJECT, file)).href)
  }))
  await Promise.all(runs)
  root.end()
  // Every test closes what it opens. Alone, a file that left a server, socket or timer open keeps its
  // process from exiting until tap's timeout; here it would hold the whole batch. So the batch fails
  // soon after its last file, naming what is still open (run the files alone to find which one).
  setTimeout(() => {
    process.stderr.write(`batch: still open ${LEAK_GRACE_MS} ms after its files ended: ${process.getActiveResourcesInfo().join(', ')}\n`)
    process.exit(1)
  }, LEAK_GRACE_MS).unref()
}
