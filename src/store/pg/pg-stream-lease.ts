// The stream lease on PostgreSQL (replicas/stream-lease.ts is the port): one `stream_leases` row per
// PBX id, taken or renewed with one atomic upsert that succeeds only for the holder or once the
// lease has expired. Times are the database's clock (clock_timestamp()), so replicas whose clocks
// disagree still agree on who holds it. The holder renews every renewMs (1 s) for leaseMs (5 s); a
// standby tries as often, so a dead holder is replaced within leaseMs + renewMs (+ the stream's
// start). While the database cannot be reached the holder keeps its stream: nobody else can take the
// lease then either, and held events are written once it is back. After the server (re)started, a
// lease it holds is not taken for leaseMs: its holder gets one period to renew it, so a database
// restart moves no stream. A replica that is not the designated holder of a PBX (tenant-spread.ts)
// takes its lease only takeGraceMs after it ran out, leaving the designated replica the first try.
// A lease given back is expired, not deleted, so that grace applies to it too; only a replica that
// holds the lease renews it past its expiry (a new instance with the same id waits like any other).
import type { StreamLease, StreamLeaseEvents, StreamStatus } from '../../replicas/stream-lease.js'
import { DEFAULT_PBX_ID, defaultReplicaId } from '../../replicas/stream-lease.js'
import type { PgStore } from './pg-pool.js'

export interface PgStreamLeaseOptions {
  pbxId?: string
  /** This process's id (default hostname:pid). */
  replica?: string
  leaseMs?: number
  renewMs?: number
  /** How long after the lease ran out this replica may take it (ms, asked before each try; default 0). */
  takeGraceMs?: () => number
  log?: { info: (o: object, m: string) => void, warn: (o: object, m: string) => void, error: (o: object, m: string) => void }
}

const TAKE = `
  INSERT INTO stream_leases (pbx_id, holder, expires_at, acquired_at, renewed_at)
  VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond', clock_timestamp(), clock_timestamp())
  ON CONFLICT (pbx_id) DO UPDATE SET
    expires_at = excluded.expires_at, renewed_at = excluded.renewed_at,
    acquired_at = CASE WHEN stream_leases.holder = excluded.holder THEN stream_leases.acquired_at ELSE excluded.acquired_at END,
    access_token = CASE WHEN stream_leases.holder = excluded.holder THEN stream_leases.access_token END,
    token_expires_at = CASE WHEN stream_leases.holder = excluded.holder THEN stream_leases.token_expires_at END,
    holder = excluded.holder
  WHERE ($5::boolean AND stream_leases.holder = excluded.holder)
    OR (stream_leases.expires_at < clock_timestamp() - $4 * interval '1 millisecond'
      AND pg_postmaster_start_time() < clock_timestamp() - $3 * interval '1 millisecond')
  RETURNING holder, acquired_at`

export class PgStreamLease implements StreamLease {
  readonly pbxId: string
  readonly replica: string
  private readonly leaseMs: number
  private readonly renewMs: number
  private holding = false
  private holder: string | null = null
  private holderSince: Date | null = null
  private timer: NodeJS.Timeout | null = null
  private events: StreamLeaseEvents | null = null
  private stopped = false
  private ticking: Promise<void> | null = null
  private failing = false
  private starting: Promise<void> | null = null

  constructor (private readonly store: PgStore, private readonly opts: PgStreamLeaseOptions = {}) {
    this.pbxId = opts.pbxId ?? DEFAULT_PBX_ID
    this.replica = opts.replica ?? defaultReplicaId()
    this.leaseMs = opts.leaseMs ?? 5000
    this.renewMs = opts.renewMs ?? 1000
  }

  get status (): StreamStatus {
    return {
      role: this.holding ? 'holder' : 'standby',
      pbxId: this.pbxId,
      replica: this.replica,
      holder: this.holder,
      holderSince: this.holderSince?.toISOString() ?? null
    }
  }

  async start (events: StreamLeaseEvents): Promise<void> {
    this.events = events
    this.starting = null
    await this.tick()
    this.schedule()
    // The stream of a replica that holds the lease at once is open when start() returns.
    await this.starting
  }

  private schedule (): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.ticking = this.tick().finally(() => { this.ticking = null; this.schedule() })
    }, this.renewMs)
    this.timer.unref()
  }

  /** One renewal (holder) or attempt (standby). */
  private async tick (): Promise<void> {
    let row: { holder: string, acquired_at: Date } | undefined
    try {
      row = (await this.store.pool.query<{ holder: string, acquired_at: Date }>(TAKE, [this.pbxId, this.replica, this.leaseMs, this.holding ? 0 : this.opts.takeGraceMs?.() ?? 0, this.holding])).rows[0]
      if (row === undefined) {
        const other = (await this.store.pool.query<{ holder: string, acquired_at: Date }>('SELECT holder, acquired_at FROM stream_leases WHERE pbx_id = $1', [this.pbxId])).rows[0]
        this.holder = other?.holder ?? null
        this.holderSince = other?.acquired_at ?? null
      }
      if (this.failing) this.opts.log?.info({ pbx: this.pbxId }, 'the stream lease can be read again')
      this.failing = false
    } catch (err) {
      // Unknown, not lost: nobody can take the lease while the database cannot be reached.
      if (!this.failing) this.opts.log?.warn({ pbx: this.pbxId, err: err instanceof Error ? err.message : String(err) }, `cannot renew the stream lease of PBX ${this.pbxId}; ${this.holding ? 'keeping the stream' : 'staying standby'} until the database answers`)
      this.failing = true
      return
    }
    if (row !== undefined) {
      this.holder = this.replica
      this.holderSince = row.acquired_at
      if (!this.holding && !this.stopped) {
        this.holding = true
        this.opts.log?.info({ pbx: this.pbxId, replica: this.replica }, `this replica now holds the event stream of PBX ${this.pbxId}`)
        // Not awaited: the renewals go on while the stream starts (a snapshot can take seconds).
        this.starting = Promise.resolve(this.events?.acquired()).catch((err: unknown) => {
          this.opts.log?.error({ pbx: this.pbxId, err: err instanceof Error ? err.message : String(err) }, 'starting the event stream failed')
        })
      }
      return
    }
    if (this.holding) {
      this.holding = false
      this.opts.log?.error({ pbx: this.pbxId, replica: this.replica, holder: this.holder }, `replica ${this.holder ?? '?'} took the event stream of PBX ${this.pbxId} from this replica (its lease had run out): stopping the stream here`)
      this.events?.lost(this.holder)
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.ticking
    // Also when not holding: a try racing with stop() may have taken the row without acting on it.
    this.holding = false
    await this.store.pool.query('UPDATE stream_leases SET expires_at = clock_timestamp() WHERE pbx_id = $1 AND holder = $2', [this.pbxId, this.replica]).catch(() => {})
  }
}
