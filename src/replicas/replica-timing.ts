// The replicas' timing, from one setting: REPLICA_LEASE_MS (default 5 s), how long a stream lease
// lasts without renewal. The rest follows in the proportions the defaults were chosen in: a holder
// renews (and a standby tries) five times per lease; a replica's heartbeat keeps it live for 0.8 of
// a lease, so a dead replica leaves the list before its leases run out and the designated replicas
// take them; the spread (spread-keeper.ts) ticks with the renewals, moves nothing until the list
// of replicas has been unchanged for 0.6 of a lease, gives back no tenant held for less than two
// leases, and lets a replica not designated for a free tenant take it 0.4 of a lease after it ran out.
// A shorter lease means a quicker take-over after a replica dies, and more database round trips.

export interface ReplicaTiming {
  leaseMs: number
  renewMs: number
  heartbeatTtlMs: number
  spread: { everyMs: number, settleMs: number, minHoldMs: number, orphanGraceMs: number }
}

export const DEFAULT_REPLICA_LEASE_MS = 5000

export function replicaTiming (leaseMs: number = DEFAULT_REPLICA_LEASE_MS): ReplicaTiming {
  const part = (share: number): number => Math.round(leaseMs * share)
  return {
    leaseMs,
    renewMs: part(0.2),
    heartbeatTtlMs: part(0.8),
    spread: { everyMs: part(0.2), settleMs: part(0.6), minHoldMs: part(2), orphanGraceMs: part(0.4) }
  }
}
