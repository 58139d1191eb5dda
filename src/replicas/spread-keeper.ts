// Keeps the tenants spread over the live replicas (tenants/tenant-gateway.ts runs one per process
// on PostgreSQL): every second it renews this replica's heartbeat, reads who holds each tenant's
// stream, and acts on planSpread (tenant-spread.ts). Its leases take the streams it is designated for
// as soon as they are free and others only orphanGraceMs later (graceFor); it gives back the tenants
// the plan says it holds too many of, gracefully (the tenant's stream stopped and its state written,
// then the lease expired: the designated replica resumes it, as after a clean stop). Flapping is
// damped twice: the plan tolerates holdings between floor and ceil of the fair share, and nothing is
// given back until the list of live replicas has been unchanged for settleMs (a replica starting,
// stopping or missing one heartbeat moves nothing at once), and none this replica took less than
// minHoldMs ago (a tenant does not bounce between replicas).
import type { ReplicaRegistry } from './replica-registry.js'
import type { StreamStatus } from './stream-lease.js'
import { planSpread, type SpreadPlan } from './tenant-spread.js'

/** A tenant and its stream's status (null while it is being rebuilt). */
export interface SpreadTenant { id: string, stream: () => StreamStatus | null }

export interface SpreadKeeperOptions {
  registry: ReplicaRegistry
  /** This process's tenants (the same list on every replica: the same TENANTS_FILE or tenants table). */
  tenants: () => readonly SpreadTenant[]
  /** Gives a tenant's stream back gracefully; resolves once its lease is free. */
  release: (id: string) => Promise<void>
  everyMs?: number
  settleMs?: number
  /** A tenant this replica took is not given back before it held it this long (ms; default 10 000). */
  minHoldMs?: number
  orphanGraceMs?: number
  now?: () => number
  log?: { info: (o: object, m: string) => void, warn: (o: object, m: string) => void }
}

/** What /readyz shows of the spread (`replicas` object of the front). */
export interface SpreadStatus {
  replica: string
  /** The live replicas, as of the last heartbeat (empty before the first or while the database cannot be read). */
  live: string[]
  /** How many tenants this replica should hold, and how many it holds. */
  quota: number
  holding: number
  designated: string[]
}

export class SpreadKeeper {
  private live: string[] = []
  private changedAt: number
  private plan: SpreadPlan | null = null
  private readonly releasing = new Set<string>()
  /** Tenant → since when this replica holds it (its own clock, as seen by the ticks). */
  private readonly heldSince = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private stopped = false
  private failing = false
  private readonly now: () => number

  constructor (private readonly opts: SpreadKeeperOptions) {
    this.now = opts.now ?? Date.now
    this.changedAt = this.now()
  }

  /** How long after a tenant's lease ran out this replica may take it: at once when designated (or before any plan). */
  graceFor (tenant: string): number {
    if (this.plan === null || this.plan.designated.has(tenant)) return 0
    return this.opts.orphanGraceMs ?? 2000
  }

  get status (): SpreadStatus {
    return {
      replica: this.opts.registry.replica,
      live: [...this.live],
      quota: this.plan?.quota ?? 0,
      holding: this.opts.tenants().filter((t) => t.stream()?.role === 'holder').length,
      designated: [...(this.plan?.designated ?? [])].sort()
    }
  }

  /** The first heartbeat (so the leases start with a plan), then one every everyMs. */
  async start (): Promise<void> {
    await this.tick()
    this.schedule()
  }

  private schedule (): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.ticking = this.tick().finally(() => { this.ticking = null; this.schedule() })
    }, this.opts.everyMs ?? 1000)
    this.timer.unref()
  }

  async tick (): Promise<void> {
    let live: string[]
    try {
      live = await this.opts.registry.heartbeat()
      if (this.failing) this.opts.log?.info({ replica: this.opts.registry.replica }, 'the replica registry can be read again')
      this.failing = false
    } catch (err) {
      // Nothing is decided on an old list: the leases keep what they hold meanwhile.
      if (!this.failing) this.opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot renew this replica\'s heartbeat; the tenants stay where they are until the database answers')
      this.failing = true
      return
    }
    if (live.join('\n') !== this.live.join('\n')) {
      this.opts.log?.info({ replicas: live }, `${live.length} live replicas: ${live.join(', ')}`)
      this.live = live
      this.changedAt = this.now()
    }
    const self = this.opts.registry.replica
    const tenants = this.opts.tenants()
    const holders = new Map(tenants.map((t) => [t.id, holderOf(t.stream(), self)]))
    const now = this.now()
    for (const [id, h] of holders) {
      if (h !== self) this.heldSince.delete(id)
      else if (!this.heldSince.has(id)) this.heldSince.set(id, now)
    }
    this.plan = planSpread({ self, replicas: live, tenants: tenants.map((t) => t.id), holders })
    if (this.stopped || now - this.changedAt < (this.opts.settleMs ?? 3000)) return
    const minHold = this.opts.minHoldMs ?? 10_000
    const release = this.plan.release.filter((id) => !this.releasing.has(id) && now - (this.heldSince.get(id) ?? now) >= minHold)
    if (release.length === 0) return
    this.opts.log?.info({ tenants: release, quota: this.plan.quota }, `giving back ${release.length} tenants to even the spread over ${live.length} replicas`)
    for (const id of release) {
      this.releasing.add(id)
      this.heldSince.delete(id)
      void this.opts.release(id).catch((err: unknown) => {
        this.opts.log?.warn({ tenant: id, err: err instanceof Error ? err.message : String(err) }, 'giving a tenant back failed')
      }).finally(() => { this.releasing.delete(id) })
    }
  }

  /** Stops the heartbeats and leaves the registry (the others rebalance at once). */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.ticking
    await this.opts.registry.leave().catch(() => {})
    await this.opts.registry.close()
  }
}

/** Who holds a tenant as the spread counts it: a standby reading its own id holds an expired lease, i.e. nobody. */
function holderOf (s: StreamStatus | null, self: string): string | null {
  if (s === null) return null
  if (s.role === 'holder') return self
  return s.holder === self ? null : s.holder
}
