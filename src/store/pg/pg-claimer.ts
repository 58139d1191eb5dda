// The claim loop of one consumer of the PostgreSQL outbox (pg-outbox-store.ts in claim mode): every
// replica on one database delivers, each taking whole call chains whose head is due with
// PgOutbox.claimChains() (FOR UPDATE SKIP LOCKED on the heads, every pending delivery of the chain
// leased to it) and handing them to its delivery scheduler, which sends a chain in order. It claims
// when woken (an event written here; a chain finished while few claimed chains are left: more may
// be due) and every pollMs (events written by other replicas, leases of a dead replica run out). A
// claim reads every pending head, so it is not repeated after each delivery. Whatever woke it, a
// consumer claims only while fewer than half a claim's worth of chains are still being sent here (the
// low-water mark): a replica that falls behind (a slow receiver) leaves the chains it has not claimed
// to the other replicas' polls instead of taking every chain written (the stream holder writes them all,
// and claimed each one as it wrote it). A chain waiting for a retry (its receiver failed) is not being
// sent: it does not count, so a receiver that is down does not hold back other chains. One claim runs at
// a time; a wake during one claims again right after it.
import type { DeliveryJob, StoredEvent } from '../../webhooks/outbox-store.js'
import type { PgOutbox } from './pg-outbox.js'

export interface PgClaimerOptions {
  consumer: string
  /** How long a claimed delivery is this consumer's (ms): longer than one attempt can take. */
  leaseMs: number
  pollMs?: number
  limit?: number
}

export class PgClaimer {
  /** Chains claimed and not finished here, by target and chain: their deliveries not settled yet. */
  private readonly held = new Map<string, Set<number>>()
  /** Held chains whose head waits for a retry (retrying()), until one of their deliveries is settled for good. */
  private readonly waiting = new Set<string>()
  private running = false
  private again = false
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  /** `events`: receives the claimed deliveries' events (read with each claim). */
  constructor (private readonly outbox: PgOutbox, readonly opts: PgClaimerOptions, private readonly hand: (jobs: DeliveryJob[]) => void, private readonly events?: Map<number, StoredEvent>) {}

  start (): void {
    if (this.timer !== null || this.stopped) return
    this.timer = setInterval(() => { this.wake() }, this.opts.pollMs ?? 500)
    this.timer.unref()
    this.wake()
  }

  wake (): void {
    if (this.stopped || this.timer === null || this.full()) return
    if (this.running) { this.again = true; return }
    this.running = true
    void this.loop().finally(() => { this.running = false })
  }

  private async loop (): Promise<void> {
    const limit = this.opts.limit ?? 200
    do {
      this.again = false
      let jobs: DeliveryJob[]
      try {
        jobs = await this.outbox.claimChains(this.opts.consumer, { limit, leaseMs: this.opts.leaseMs }, this.events)
      } catch {
        return // reported to storage health by PgOutbox; the next poll tries again
      }
      for (const j of jobs) {
        const key = `${j.target} ${j.chain}`
        const ids = this.held.get(key) ?? new Set<number>()
        ids.add(j.id)
        this.held.set(key, ids)
      }
      if (jobs.length > 0 && !this.stopped) this.hand(jobs)
      if (new Set(jobs.map((j) => `${j.target} ${j.chain}`)).size === limit) this.again = true
    } while (this.again && !this.stopped && !this.full())
  }

  /** At or above the low-water mark: enough chains are being sent here, the rest is left to others. */
  private full (): boolean {
    return this.held.size - this.waiting.size >= (this.opts.limit ?? 200) / 2
  }

  /** An attempt failed and the delivery will be retried here later: its chain no longer counts as being sent. */
  retrying (job: DeliveryJob): void {
    const key = `${job.target} ${job.chain}`
    if (!this.held.has(key) || this.waiting.has(key)) return
    this.waiting.add(key)
    this.wake()
  }

  /** A delivery is settled for good (done or failed): when its chain is finished here and few are left, claim more. */
  settled (job: DeliveryJob): void {
    const key = `${job.target} ${job.chain}`
    const ids = this.held.get(key)
    ids?.delete(job.id)
    this.waiting.delete(key) // sent at last: the chain goes on (or is finished)
    if (ids !== undefined && ids.size > 0) return
    this.held.delete(key)
    this.wake()
  }

  /** Stops claiming and gives back the leases of deliveries not settled (at shutdown). */
  async stop (): Promise<void> {
    this.stopped = true
    this.held.clear()
    this.waiting.clear()
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.outbox.release(this.opts.consumer).catch(() => {})
  }
}
