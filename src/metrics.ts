// Prometheus metrics of one gateway instance (its own registry, so tests can run several apps).
// Labels are low-cardinality by construction: legacy method names, route templates, target names,
// status codes — never keys, numbers or URLs. prom-client (with @opentelemetry/api, which it loads)
// is loaded when the registry is first asked for, right after the server listens (server.ts) or at
// the first scrape, not with the gateway's modules: ~50 ms of the start-up (issue 16).
import type { Counter, Histogram, Registry } from 'prom-client'

type PromClient = typeof import('prom-client')

/** Values read at scrape time from the live services (set by the composition root). */
export interface MetricSources {
  callsInProgress?: () => number
  callEndsOwed?: () => number
  wsReconnects?: () => number
  callControlCatchUps?: () => number | undefined
  recoveredCalls?: () => number
  unseenCalls?: () => number
  wsConnected?: () => boolean
  outboxDepth?: () => number | undefined
  outboxHeld?: () => number
  eventsRefused?: () => number
  eventsRederived?: () => number
  storageWriteFailures?: () => ReadonlyMap<string, number>
  conversionQueue?: () => number
  conversions?: () => { done: number, failed: number, retries?: number }
  mp3DiskBytes?: () => number
  heldRecordings?: () => number
  cacheStats?: () => { hits: number, stale: number, misses: number }
  deliveryStats?: () => ReadonlyArray<{ name: string, attempts: number, failures: number, delivered: number }>
}

/**
 * Requests by label and status as plain numbers: counting runs on every request, so it stays out
 * of prom-client (which hashes the labels of each increment) until a scrape reads it.
 */
export class RequestCounts {
  private readonly byLabel = new Map<string, StatusCounts>()

  /** The counts of one label (route), to keep and add to. */
  of (label: string): StatusCounts {
    let counts = this.byLabel.get(label)
    if (counts === undefined) {
      counts = new StatusCounts()
      this.byLabel.set(label, counts)
    }
    return counts
  }

  entries (): Array<readonly [Labels, number]> {
    const out: Array<readonly [Labels, number]> = []
    for (const [method, counts] of this.byLabel) {
      for (const [status, n] of counts.byStatus) out.push([{ method, status: String(status) }, n])
    }
    return out
  }
}

export class StatusCounts {
  readonly byStatus = new Map<number, number>()

  add (status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1)
  }
}

/** What the PBX clients report of each request (their `observe` option). */
export interface PbxObservation { api: string, route: string, status: number | null, durationMs: number, error?: string }

/**
 * PBX requests observed before the registry exists (the start-up's, a few dozen), kept to be counted
 * in it. Half as many start building it: where nothing asks for it (a tenant never scraped yet), later
 * requests are counted rather than dropped.
 */
const MAX_EARLY_OBSERVATIONS = 1000

export class GatewayMetrics {
  /** gateway_requests_total, counted by the request-metrics plugin. */
  readonly requests = new RequestCounts()
  sources: MetricSources = {}
  private building: Promise<Registry> | null = null
  private pbx: { duration: Histogram<'api' | 'route' | 'status'>, errors: Counter<'api' | 'route' | 'code'> } | null = null
  private early: PbxObservation[] = []

  constructor (private readonly opts: { defaultMetrics?: boolean, tenant?: string } = {}) {}

  /**
   * The Prometheus registry with every metric: prom-client is loaded and the metrics registered at the
   * first call (each later call gets the same registry). The process's default metrics (CPU, memory,
   * event loop, GC) count from then on.
   */
  async registry (): Promise<Registry> {
    this.building ??= import('prom-client').then((prom) => this.build(prom), (err: unknown) => {
      this.building = null // asked again, it tries again
      throw err
    })
    return await this.building
  }

  /** Whether the registry is built (prom-client loaded, every metric registered). */
  get built (): boolean {
    return this.pbx !== null
  }

  /** Hook for the PBX clients' `observe` option. */
  observePbx = (o: PbxObservation): void => {
    if (this.pbx === null) {
      if (this.early.length < MAX_EARLY_OBSERVATIONS) this.early.push(o)
      if (this.early.length === MAX_EARLY_OBSERVATIONS / 2) this.registry().catch(() => {}) // a scrape will say why
      return
    }
    this.pbx.duration.observe({ api: o.api, route: o.route, status: o.status === null ? 'none' : String(o.status) }, o.durationMs / 1000)
    if (o.error !== undefined) this.pbx.errors.inc({ api: o.api, route: o.route, code: o.error })
  }

  private build (prom: PromClient): Registry {
    const registry = new prom.Registry()
    const registers = [registry]
    if (this.opts.tenant !== undefined) registry.setDefaultLabels({ tenant: this.opts.tenant })
    if (this.opts.defaultMetrics !== false) {
      collectProcessMetrics(prom, registry)
    }
    const collectedCounter = counterOf(prom, registers)
    collectedCounter('gateway_requests_total', 'API requests by legacy method (or route) and status', ['method', 'status'], () => this.requests.entries())
    this.pbx = {
      duration: new prom.Histogram({
        name: 'gateway_pbx_request_duration_seconds',
        help: 'PBX request latency by API (xapi, callcontrol, token), route template and status',
        labelNames: ['api', 'route', 'status'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers
      }),
      errors: new prom.Counter({ name: 'gateway_pbx_errors_total', help: 'PBX request failures by API, route template and error code', labelNames: ['api', 'route', 'code'], registers })
    }
    for (const o of this.early) this.observePbx(o)
    this.early = []
    collectedCounter('gateway_recording_conversions_total', 'WAV to MP3 conversions by outcome (ok, failed; retry: failed, tried again later)', ['outcome'], () => {
      const c = this.sources.conversions?.()
      return c === undefined ? [] : [[{ outcome: 'ok' }, c.done], [{ outcome: 'failed' }, c.failed], [{ outcome: 'retry' }, c.retries ?? 0]]
    })

    const gauge = (name: string, help: string, read: () => number | undefined): void => {
      // eslint-disable-next-line no-new
      new prom.Gauge({ name, help, registers, collect () { const v = read(); if (v !== undefined) this.set(v) } })
    }
    collectedCounter('gateway_cache_lookups_total', 'Directory cache lookups by result (hit, stale, miss)', ['result'], () => {
      const c = this.sources.cacheStats?.()
      return c === undefined ? [] : [[{ result: 'hit' }, c.hits], [{ result: 'stale' }, c.stale], [{ result: 'miss' }, c.misses]]
    })
    collectedCounter('gateway_webhook_attempts_total', 'Webhook delivery attempts by target name and outcome (delivered, failed_attempt)', ['target', 'outcome'], () =>
      (this.sources.deliveryStats?.() ?? []).flatMap((t) => [
        [{ target: t.name, outcome: 'delivered' }, t.delivered] as const,
        [{ target: t.name, outcome: 'failed_attempt' }, t.failures] as const
      ]))
    gauge('gateway_calls_in_progress', 'Calls in progress in the live call model', () => this.sources.callsInProgress?.())
    gauge('gateway_call_ends_owed', 'Calls whose call-ended events are not emitted yet (in progress, in their grace period, held for the PBX times or reconciled with its record); 0 once every call seen is announced', () => this.sources.callEndsOwed?.())
    gauge('gateway_ws_reconnects', 'Call Control WebSocket reconnects since start', () => this.sources.wsReconnects?.())
    gauge('gateway_callcontrol_catchups', 'Snapshots taken because participant fetches fell behind (a slow PBX under heavy traffic)', () => this.sources.callControlCatchUps?.())
    gauge('gateway_recovered_calls', 'Calls the gateway never saw, announced from the PBX call log since start', () => this.sources.recoveredCalls?.())
    gauge('gateway_unseen_calls', 'Call ids never seen, waiting to be looked up in the PBX call log', () => this.sources.unseenCalls?.())
    gauge('gateway_ws_connected', '1 when the Call Control WebSocket is connected', () => {
      const c = this.sources.wsConnected?.()
      return c === undefined ? undefined : c ? 1 : 0
    })
    gauge('gateway_outbox_depth', 'Webhook deliveries waiting in the durable outbox (and call events held in memory while gateway.db cannot be written)', () => this.sources.outboxDepth?.())
    gauge('gateway_outbox_held_events', 'Call events held in memory because gateway.db cannot be written (disk full, I/O error)', () => this.sources.outboxHeld?.())
    collectedCounter('gateway_events_refused_total', 'Call events refused (lost) because gateway.db could not be written and the in-memory hold was full', [], () => {
      const n = this.sources.eventsRefused?.()
      return n === undefined ? [] : [[{}, n]]
    })
    collectedCounter('gateway_events_rederived_total', 'Call events derived again (a replica resumed a call from a state older than its stored events) and not stored: the first copy is kept', [], () => {
      const n = this.sources.eventsRederived?.()
      return n === undefined ? [] : [[{}, n]]
    })
    collectedCounter('gateway_storage_write_failures_total', 'Failed writes to gateway.db by writer (outbox, delivery log, call state, unseen calls, ...)', ['store'], () =>
      [...(this.sources.storageWriteFailures?.() ?? new Map<string, number>())].map(([store, n]) => [{ store }, n] as const))
    gauge('gateway_recording_conversion_queue', 'Recordings waiting for or in conversion', () => this.sources.conversionQueue?.())
    gauge('gateway_mp3_disk_bytes', 'Bytes used by MP3 files in MP3_DIR', () => this.sources.mp3DiskBytes?.())
    gauge('gateway_recordings_held', 'Recorded legs not announced because no file near them could be identified as theirs (docs/recordings.md)', () => this.sources.heldRecordings?.())
    return registry
  }
}

type Labels = Record<string, string>

/**
 * prom-client's default metrics (`gateway_` prefix) in `registry`. Its process CPU counters count from
 * their registration; Prometheus's own clients count the process's CPU since it started
 * (`process_cpu_seconds_total`), so do these: what was used before (loading, start-up) is added once,
 * read before prom-client takes its own first reading so that nothing is counted twice.
 */
export function collectProcessMetrics (prom: Pick<PromClient, 'collectDefaultMetrics'>, registry: Registry): void {
  const used = process.cpuUsage()
  prom.collectDefaultMetrics({ register: registry, prefix: 'gateway_' })
  const add = (name: string, micros: number): void => { (registry.getSingleMetric(`gateway_${name}`) as Counter | undefined)?.inc(micros / 1e6) }
  add('process_cpu_user_seconds_total', used.user)
  add('process_cpu_system_seconds_total', used.system)
  add('process_cpu_seconds_total', used.user + used.system)
}

/**
 * Makes counters whose value lives in another module: at scrape time each advances by what was added
 * since (`read` gives the totals by labels).
 */
function counterOf (prom: PromClient, registers: Registry[]) {
  return (name: string, help: string, labelNames: string[], read: () => ReadonlyArray<readonly [Labels, number]>): void => {
    const seen = new Map<string, number>()
    // eslint-disable-next-line no-new
    new prom.Counter({
      name,
      help,
      labelNames,
      registers,
      collect () {
        for (const [labels, value] of read()) {
          const key = JSON.stringify(labels)
          const delta = value - (seen.get(key) ?? 0)
          if (delta > 0) this.inc(labels, delta)
          seen.set(key, value)
        }
      }
    })
  }
}
