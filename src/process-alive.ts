// Whether a process with this pid exists: signal 0 checks without sending anything. EPERM means it
// exists but belongs to another user (a gateway running as its own service user): alive, not gone.
import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'

export function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes from `dir` what processes that are gone left there: folders named by their process (a demo
 * run's in DATA_DIR, the simulator's recordings in tmp) whose process was killed before it could remove
 * them. `pidOf` gives an entry's pid, 0 for one of no known process (removed), undefined for an entry
 * that is not such a folder (kept). This process's own, and those of processes alive, stay.
 */
export async function removeLeftByGone (dir: string, pidOf: (name: string) => number | undefined): Promise<void> {
  const names = await readdir(dir).catch(() => [])
  await Promise.all(names.map(async (name) => {
    const pid = pidOf(name)
    if (pid === undefined || pid === process.pid || (pid > 0 && processAlive(pid))) return
    await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => {})
  }))
}
