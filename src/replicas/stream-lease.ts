// Which replica holds a PBX's event stream (the port; store/pg/pg-stream-lease.ts is the PostgreSQL
// adapter). Several gateway processes on one database share the outbox, but a PBX's Call Control
// WebSocket and its live call model are held by exactly one of them at a time: the holder of the
// PBX's lease. The others are standbys: they deliver webhooks and answer the API, and take the
// stream over when the holder's lease runs out (it died) or is given back (it stopped).
// With SQLite there is one process and no lease: its role is `single`.
import { hostname } from 'node:os'

export type StreamRole = 'single' | 'holder' | 'standby'

/** What /readyz and the console show of the stream (`stream` object). */
export interface StreamStatus {
  role: StreamRole
  /** The PBX the lease is for (`default` for a single-PBX configuration). */
  pbxId: string
  /** This process's replica id. */
  replica: string
  /** The replica holding the stream now (null: none yet, or unknown while the database cannot be read). */
  holder: string | null
  /** Since when the holder holds it (ISO 8601), when known. */
  holderSince: string | null
}

export interface StreamLeaseEvents {
  /** This replica now holds the lease: open the stream. */
  acquired: () => void | Promise<void>
  /** Another replica took the lease while this one thought it held it: stop the stream at once. */
  lost: (holder: string | null) => void
}

export interface StreamLease {
  readonly status: StreamStatus
  /** Tries to take the lease now, then keeps renewing (holder) or trying (standby) in the background. */
  start: (events: StreamLeaseEvents) => Promise<void>
  /** Stops renewing and gives the lease back, so a standby takes over without waiting for it to expire. */
  stop: () => Promise<void>
}

/** The default PBX id: a single-PBX configuration is the one tenant `default`. */
export const DEFAULT_PBX_ID = 'default'

/** This process's replica id: the host name (a container's id under Docker) and the process id. */
export function defaultReplicaId (): string {
  return `${hostname()}:${process.pid}`
}
