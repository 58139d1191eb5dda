// Everything the simulator's plugins share. Plugins always read `ctx.directory` afresh: a reset
// replaces it.
import type { SimAuth } from './sim-auth.js'
import type { SimFaults } from './faults.js'
import type { SimDirectory } from './sim-types.js'
import type { CallEngine } from './engine/call-engine.js'
import type { EntityStore } from './xapi/entity-store.js'

export interface SimRequestLogEntry {
  at: number
  method: string
  /** The URL as received (still percent-encoded). */
  url: string
  status: number
}

export interface SimContext {
  directory: SimDirectory
  /** Every XAPI entity set and singleton beyond the directory's (generic-xapi.ts). */
  store: EntityStore
  engine: CallEngine
  auth: SimAuth
  faults: SimFaults
  /** Root of the WAV recordings tree (3CX layout). */
  recordingsDir: string
  /** Last requests to /xapi and /callcontrol (bounded), for tests and the fuzz suite. */
  requestLog: SimRequestLogEntry[]
  /** Back to the PBX the simulator started with (its definition; not the --state file). */
  restorePbx: () => void
  /** Seed of the random generators (traffic, ids). */
  seed: number
}

export const REQUEST_LOG_LIMIT = 20_000
