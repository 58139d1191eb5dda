// The live replicas (the port; store/pg/pg-replica-registry.ts is the PostgreSQL adapter): each
// gateway process keeps a heartbeat row on the database's clock, and rows whose heartbeat ran out
// are ignored, so the replicas agree on who is alive without talking to each other. The tenants'
// spread over them (tenant-spread.ts) follows from that list.

export interface ReplicaRegistry {
  /** This process's id (the same as its stream leases'). */
  readonly replica: string
  /** Renews this replica's row and answers the live replicas' ids (sorted), this one included. */
  heartbeat: () => Promise<string[]>
  /** Removes this replica's row (a clean stop: the others rebalance without waiting for it to run out). */
  leave: () => Promise<void>
  close: () => Promise<void>
}
