// `--state FILE`: the PBX the simulator has become (directory and every XAPI entity created or
// changed) kept in a JSON file across restarts. Written after each successful XAPI write, atomically
// (temp file + rename), so a crash leaves the previous state.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { SimDirectory } from './sim-types.js'
import type { StoreSnapshot } from './xapi/entity-store.js'

export interface SimState {
  version: 1
  directory: SimDirectory
  store: StoreSnapshot
}

export class SimStateError extends Error {}

/** The saved state, or null when the file does not exist yet. */
export function loadState (file: string): SimState | null {
  if (!existsSync(file)) return null
  let state: SimState
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as SimState
  } catch (err) {
    throw new SimStateError(`${file}: not a simulator state file (${(err as Error).message}); move it away to start afresh`)
  }
  if (state?.version !== 1 || typeof state.directory !== 'object' || typeof state.store !== 'object') {
    throw new SimStateError(`${file}: not a simulator state file (version 1 expected); move it away to start afresh`)
  }
  return state
}

export function saveState (file: string, directory: SimDirectory, store: StoreSnapshot): void {
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, JSON.stringify({ version: 1, directory, store } satisfies SimState))
  renameSync(temp, file)
}
