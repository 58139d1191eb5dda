// How the test workers of one run share their queues (test/batch-runner.ts): a worker takes a file by
// creating the file's claim in the run's claim folder, which only one process can do (O_EXCL).
import { closeSync, openSync, readFileSync } from 'node:fs'
import { readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'

const PROJECT = path.resolve(import.meta.dirname, '..')

/** Where the claim folders of runs are, from the project's root. */
export const CLAIMS_ROOT = '.tap/file-queue'

/**
 * What names this run: the process that started this one (tap's runner, for its `before` script and
 * its test processes alike), by its pid and start time, so a later run with a recycled pid is another.
 */
export function runKey (): string {
  let started = '0'
  try {
    // /proc/<pid>/stat: field 22 (the 20th after the parenthesised command name) is the start time in clock ticks.
    started = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1].split(' ')[19]
  } catch {} // no /proc: the pid alone
  return `${process.ppid}-${started}`
}

/** The claim folder of this run: TEST_QUEUE_DIR, else one named by runKey(). */
export function claimDir (): string {
  const given = process.env.TEST_QUEUE_DIR
  if (given !== undefined && given !== '') return given
  return path.join(PROJECT, CLAIMS_ROOT, runKey())
}

/** Takes `file` for this process: false if another process took it first. */
export function claim (claims: string, file: string): boolean {
  try {
    closeSync(openSync(path.join(claims, file.replaceAll('/', '%')), 'wx'))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/** Removes what is under `root` (claim folders, files) not touched for `maxAgeMs`: runs long over. */
export async function removeStale (root: string, maxAgeMs: number, now = Date.now()): Promise<void> {
  for (const name of await readdir(root).catch(() => [])) {
    const entry = path.join(root, name)
    const modified = await stat(entry).then((s) => s.mtimeMs, () => now)
    if (now - modified > maxAgeMs) await rm(entry, { recursive: true, force: true })
  }
}
