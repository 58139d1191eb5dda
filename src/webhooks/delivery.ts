// Sends the outbox's deliveries. One scheduler per target, so a slow or dead receiver only delays
// itself: per chain (call) the events go out one after another in order, different chains run in
// parallel up to `concurrency`. Workers are woken by the outbox on enqueue (no polling); retries wait
// on one timer per target. Every attempt is recorded in the outbox.
import { Agent, request, type Dispatcher } from 'undici'
import type { Config, WebhookTargetConfig } from '../config.js'
import type { AttemptRecord, DeliveryJob, DeliveryStatus, OutboxStore } from './outbox-store.js'
import { buildRequest } from './payload.js'
import { isStorageError } from '../storage-health.js'
import type { Degraded } from '../health.js'

export interface DeliveryLog {
  error: (obj: unknown, msg?: string) => void
  warn: (obj: unknown, msg?: string) => void
  info: (obj: unknown, msg?: string) => void
}

export interface WebhookDeliveryOptions {
  outbox: OutboxStore
  config: Pick<Config['webhooks'], 'timeoutMs' | 'retrySchedule' | 'maxAgeMs' | 'concurrency'>
  log?: DeliveryLog
  now?: () => number
  /** 0..1, for the retry jitter; tests pin it. */
  random?: () => number
}

/** ok: the last attempt succeeded (or none yet); failing: attempts fail and are retried; disabled: 410. */
export type TargetState = 'ok' | 'failing' | 'disabled'

export interface TargetStats {
  name: string
  state: TargetState
  /** The error of the last failed attempt while failing. */
  lastError: string | null
  disabled: boolean
  disabledReason: string | null
  queued: number
  /** Of the queued deliveries, those tried and failed at least once (status `retrying` in the log). */
  retrying: number
  inFlight: number
  attempts: number
  failures: number
  /** Failed attempts since the last success (0 when the target is ok). */
  consecutiveFailures: number
  delivered: number
  /** When a delivery last succeeded (ISO 8601), null when none has since start. */
  lastSuccessAt: string | null
}

/** What one attempt came to. */
export interface AttemptOutcome {
  kind: 'done' | 'retry' | 'failed' | 'gone'
  statusCode: number | null
  retryAfterMs: number | null
  error: string | null
}

const EXCERPT_BYTES = 200
/** At most this long is spent reading a response body after its status line (the status decides). */
const EXCERPT_MS = 1000
/** A delivery whose outcome could not be written to gateway.db is written again after this long. */
const STORAGE_RETRY_MS = 1000
const MAX_RETRY_AFTER_MS = 24 * 3_600_000

/** 2xx done; 408/429/5xx and network errors retry; 410 disables; other statuses fail. */
export function classifyStatus (status: number): AttemptOutcome['kind'] {
  if (status >= 200 && status < 300) return 'done'
  if (status === 410) return 'gone'
  if (status === 408 || status === 429 || status >= 500) return 'retry'
  return 'failed'
}

/** `Retry-After` as seconds or an HTTP date → ms from now, or null. */
export function parseRetryAfter (value: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return null
  const s = v.trim()
  if (/^\d+(\.\d+)?$/.test(s)) return Math.min(Number(s) * 1000, MAX_RETRY_AFTER_MS)
  const date = Date.parse(s)
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS)
}

/** Delay before retry number `attempts` (1 = the first retry): the schedule with ±20% jitter. */
export function retryDelay (schedule: readonly number[], attempts: number, random: number): number {
  if (schedule.length === 0) return 0
  const base = schedule[Math.min(Math.max(attempts - 1, 0), schedule.length - 1)]
  return Math.round(base * (0.8 + 0.4 * random))
}

/** Never let credentials of a URL reach the attempt log. */
export function safeError (err: unknown): string {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.cause?.code ?? e.code
  const message = e.cause?.message ?? e.message ?? String(err)
  return `${code !== undefined ? code + ': ' : ''}${message}`.replace(/\/\/[^@/\s]*@/g, '//***@').slice(0, 300)
}

class TargetScheduler {
  /** Pending jobs per chain, oldest first. */
  private readonly chains = new Map<string, DeliveryJob[]>()
  private readonly known = new Set<number>()
  private readonly busyChains = new Set<string>()
  private readonly ready: string[] = []
  private readonly readySet = new Set<string>()
  private readonly waiting = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private timerAt = Infinity
  readonly inFlight = new Map<number, { promise: Promise<void>, abort: AbortController }>()
  queued = 0
  attempts = 0
  failures = 0
  delivered = 0
  stopped = false
  /** Failed attempts since the last success; > 0 means the target is failing. */
  failingSince = 0
  lastError: string | null = null
  lastSuccessAt: number | null = null

  constructor (readonly target: WebhookTargetConfig, private readonly owner: WebhookDelivery) {}

  /** Queued deliveries already tried (as the outbox lists them: pending with attempts > 0). */
  get retrying (): number {
    let n = 0
    for (const jobs of this.chains.values()) for (const job of jobs) if (job.attempts > 0) n++
    return n
  }

  add (job: DeliveryJob): void {
    if (this.known.has(job.id)) return
    this.known.add(job.id)
    this.queued++
    let q = this.chains.get(job.chain)
    if (q === undefined) {
      q = []
      this.chains.set(job.chain, q)
    }
    // Keep id order (a redelivered old job goes back to its place).
    if (q.length === 0 || q[q.length - 1].id < job.id) q.push(job)
    else q.splice(q.findIndex((j) => j.id > job.id), 0, job)
    this.consider(job.chain)
  }

  /** Puts the chain in the ready queue or on the timer, depending on its head. */
  consider (chain: string): void {
    if (this.stopped || this.busyChains.has(chain) || this.readySet.has(chain)) return
    const head = this.chains.get(chain)?.[0]
    if (head === undefined) { this.chains.delete(chain); return }
    const now = this.owner.now()
    if (head.nextAt <= now) {
      this.waiting.delete(chain)
      this.ready.push(chain)
      this.readySet.add(chain)
    } else {
      this.waiting.set(chain, head.nextAt)
      this.arm(head.nextAt)
    }
  }

  pump (): void {
    while (!this.stopped && this.inFlight.size < this.owner.concurrency && this.ready.length > 0) {
      const chain = this.ready.shift() as string
      this.readySet.delete(chain)
      const job = this.chains.get(chain)?.[0]
      if (job === undefined) continue
      this.busyChains.add(chain)
      const abort = new AbortController()
      const promise = this.owner.send(this.target, job, abort.signal)
        .then((status) => { this.finish(job, status) })
      this.inFlight.set(job.id, { promise, abort })
    }
  }

  private finish (job: DeliveryJob, status: DeliveryStatus | 'gone'): void {
    this.inFlight.delete(job.id)
    this.busyChains.delete(job.chain)
    if (status !== 'pending') {
      const q = this.chains.get(job.chain)
      if (q !== undefined && q[0]?.id === job.id) q.shift()
      this.known.delete(job.id)
      this.queued--
    }
    if (status === 'gone') {
      this.stop()
      return
    }
    this.consider(job.chain)
    this.pump()
  }

  private arm (at: number): void {
    if (at >= this.timerAt) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => {
      this.timer = null
      this.timerAt = Infinity
      const now = this.owner.now()
      let next = Infinity
      for (const [chain, due] of [...this.waiting]) {
        if (due <= now) {
          this.waiting.delete(chain)
          this.consider(chain)
        } else next = Math.min(next, due)
      }
      if (next !== Infinity) this.arm(next)
      this.pump()
    }, Math.max(0, at - this.owner.now()))
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerAt = Infinity
  }
}

export class WebhookDelivery {
  readonly now: () => number
  readonly concurrency: number
  private readonly schedulers = new Map<string, TargetScheduler>()
  private readonly dispatcher: Dispatcher
  private unsubscribe: (() => void) | null = null
  private started = false

  constructor (private readonly opts: WebhookDeliveryOptions) {
    this.now = opts.now ?? Date.now
    this.concurrency = opts.config.concurrency
    this.dispatcher = new Agent({
      connections: Math.max(1, opts.config.concurrency),
      keepAliveTimeout: 30_000,
      headersTimeout: opts.config.timeoutMs,
      bodyTimeout: opts.config.timeoutMs
    })
  }

  /** Loads what is pending from the outbox and starts sending; new events wake the workers. */
  start (): void {
    if (this.started) return
    this.started = true
    const disabled = this.opts.outbox.disabledTargets()
    for (const t of this.opts.outbox.targets) {
      const s = new TargetScheduler(t, this)
      this.schedulers.set(t.name, s)
      if (disabled.has(t.name)) {
        s.stop()
        this.opts.log?.error({ target: t.name, reason: disabled.get(t.name)?.reason }, 'webhook target is disabled (it answered 410 Gone); no events are sent to it')
        continue
      }
      for (const job of this.opts.outbox.pendingJobs(t.name)) s.add(job)
    }
    this.unsubscribe = this.opts.outbox.onEnqueue((jobs) => {
      const touched = new Set<TargetScheduler>()
      for (const job of jobs) {
        const s = this.schedulers.get(job.target)
        if (s === undefined || s.stopped) continue
        s.add(job)
        touched.add(s)
      }
      for (const s of touched) s.pump()
    })
    for (const s of this.schedulers.values()) s.pump()
  }

  /**
   * Graceful shutdown: takes no new work, waits up to `timeoutMs` for requests in flight, then
   * aborts the rest. Whatever was not delivered stays pending in the outbox.
   */
  async stop (timeoutMs = 5_000): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = null
    const inFlight: Array<{ promise: Promise<void>, abort: AbortController }> = []
    for (const s of this.schedulers.values()) {
      s.stop()
      inFlight.push(...s.inFlight.values())
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
    await Promise.race([Promise.all(inFlight.map((f) => f.promise)), timeout])
    clearTimeout(timer)
    for (const f of inFlight) f.abort.abort()
    await Promise.allSettled(inFlight.map((f) => f.promise))
    await this.dispatcher.close().catch(() => {})
  }

  stats (): TargetStats[] {
    const disabled = this.opts.outbox.disabledTargets()
    return this.opts.outbox.targets.map((t) => {
      const s = this.schedulers.get(t.name)
      return {
        name: t.name,
        state: disabled.has(t.name) ? 'disabled' : (s?.failingSince ?? 0) > 0 ? 'failing' : 'ok',
        lastError: s?.lastError ?? null,
        disabled: disabled.has(t.name),
        disabledReason: disabled.get(t.name)?.reason ?? null,
        queued: s?.queued ?? 0,
        retrying: s?.retrying ?? 0,
        inFlight: s?.inFlight.size ?? 0,
        attempts: s?.attempts ?? 0,
        failures: s?.failures ?? 0,
        consecutiveFailures: s?.failingSince ?? 0,
        delivered: s?.delivered ?? 0,
        lastSuccessAt: s?.lastSuccessAt == null ? null : new Date(s.lastSuccessAt).toISOString()
      }
    })
  }

  /**
   * For /readyz: targets disabled (410) or failing, by name (never URL or secret), as a degraded
   * state: the API keeps serving and the rest of the targets keep receiving.
   */
  readiness (): Degraded | null {
    const stats = this.stats()
    const disabled = stats.filter((s) => s.state === 'disabled').map((s) => `${s.name} disabled (${s.disabledReason ?? 'answered 410 Gone'})`)
    const failing = stats.filter((s) => s.state === 'failing').map((s) => `${s.name} failing (${s.lastError ?? 'error'}; ${s.queued} deliveries waiting)`)
    const all = [...disabled, ...failing]
    return all.length === 0 ? null : { degraded: `webhook targets: ${all.join(', ')}` }
  }

  /** One attempt of one delivery; records it and returns the delivery's new status. Never throws. */
  async send (target: WebhookTargetConfig, job: DeliveryJob, signal: AbortSignal): Promise<DeliveryStatus | 'gone'> {
    try {
      return await this.attempt(target, job, signal)
    } catch (err) {
      // A bug or an unreadable gateway.db: the delivery stays pending and is tried again later.
      if (isStorageError(err)) this.opts.outbox.health.failed('delivery log', err)
      else this.opts.log?.error({ target: target.name, delivery: job.id, err: safeError(err) }, 'webhook delivery failed unexpectedly; retrying later')
      job.nextAt = this.now() + STORAGE_RETRY_MS
      return 'pending'
    }
  }

  private async attempt (target: WebhookTargetConfig, job: DeliveryJob, signal: AbortSignal): Promise<DeliveryStatus | 'gone'> {
    // The receiver already answered but gateway.db could not record it: record it, do not send again.
    if (job.unsettled !== undefined) return await this.record(job, job.unsettled.attempt, job.unsettled.status, job.unsettled.nextAt)
    const s = this.schedulers.get(target.name)
    const started = this.now()
    let outcome: AttemptOutcome
    let excerpt: string | null = null
    const event = await this.opts.outbox.loadEvent(job.eventId)
    if (event === null) {
      outcome = { kind: 'failed', statusCode: null, retryAfterMs: null, error: 'event no longer in the outbox' }
    } else {
      try {
        const req = buildRequest(target, event.payload, event.messageId, new Date(started))
        const res = await request(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          dispatcher: this.dispatcher,
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.config.timeoutMs)])
        })
        // The status line decides; the body is only an excerpt for the log (a 2xx whose body is
        // slow or huge is still delivered, never retried).
        excerpt = await readExcerpt(res.body, Math.min(EXCERPT_MS, this.opts.config.timeoutMs))
        outcome = {
          kind: classifyStatus(res.statusCode),
          statusCode: res.statusCode,
          retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.now()),
          error: res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`
        }
      } catch (err) {
        outcome = { kind: 'retry', statusCode: null, retryAfterMs: null, error: signal.aborted ? 'aborted at shutdown' : safeError(err) }
      }
    }
    const finished = this.now()
    job.attempts++
    let status: DeliveryStatus = 'done'
    let nextAt = finished
    if (outcome.kind === 'retry') {
      const delay = outcome.retryAfterMs ?? retryDelay(this.opts.config.retrySchedule, job.attempts, (this.opts.random ?? Math.random)())
      nextAt = finished + delay
      status = nextAt - job.createdAt > this.opts.config.maxAgeMs ? 'failed' : 'pending'
      if (status === 'failed') outcome.error = `${outcome.error ?? 'error'}; gave up after ${job.attempts} attempts`
    } else if (outcome.kind !== 'done') {
      status = 'failed'
    }
    if (signal.aborted && status === 'pending') nextAt = finished // shutdown: due at once after restart
    if (s !== undefined) {
      s.attempts++
      if (outcome.kind === 'done') {
        s.delivered++
        s.lastSuccessAt = finished
      } else {
        s.failures++
      }
      if (!signal.aborted) this.noteTargetState(s, outcome)
    }
    if (outcome.kind === 'gone') {
      this.opts.outbox.disableTarget(target.name, `410 Gone at ${new Date(finished).toISOString()}`)
      this.opts.log?.error({ target: target.name, delivery: job.id }, 'webhook target answered 410 Gone: it is now DISABLED and receives no more events (see /readyz)')
    }
    if (status === 'failed') this.opts.log?.warn({ target: target.name, delivery: job.id, status: outcome.statusCode, error: outcome.error }, 'webhook delivery failed')
    const recorded = await this.record(job, { at: started, statusCode: outcome.statusCode, durationMs: finished - started, error: outcome.error, excerpt }, status, nextAt)
    return outcome.kind === 'gone' ? 'gone' : recorded
  }

  /** Writes the attempt; when gateway.db cannot be written, keeps it on the job and says pending. */
  private async record (job: DeliveryJob, attempt: AttemptRecord, status: DeliveryStatus, nextAt: number): Promise<DeliveryStatus> {
    if (await this.opts.outbox.settle(job, attempt, status, nextAt)) {
      job.unsettled = undefined
      job.nextAt = nextAt
      return status
    }
    job.unsettled = { attempt, status, nextAt }
    job.nextAt = this.now() + STORAGE_RETRY_MS
    return 'pending'
  }

  /** Logs a target's changes of state (not every attempt): failing, recovered. */
  private noteTargetState (s: TargetScheduler, outcome: AttemptOutcome): void {
    const name = s.target.name
    if (outcome.kind === 'done') {
      if (s.failingSince > 0) this.opts.log?.info({ target: name, failedAttempts: s.failingSince }, `webhook target ${name} recovered after ${s.failingSince} failed attempts`)
      s.failingSince = 0
      s.lastError = null
      return
    }
    if (s.failingSince === 0 && outcome.kind !== 'gone') this.opts.log?.warn({ target: name, status: outcome.statusCode, error: outcome.error }, `webhook target ${name} is failing (${outcome.error ?? 'error'}); its deliveries are retried (status "retrying" in GET /webhooks/deliveries)`)
    s.failingSince++
    s.lastError = outcome.error
  }
}

/**
 * The first EXCERPT_BYTES of a response body as text, read for at most `maxMs`; then the body is
 * destroyed (a receiver streaming megabytes, or slowly, costs nothing more). Errors while reading
 * only shorten the excerpt.
 */
export async function readExcerpt (body: AsyncIterable<Buffer> & { destroy: () => unknown }, maxMs: number): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  const timer = setTimeout(() => { body.destroy() }, maxMs)
  try {
    for await (const chunk of body) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= EXCERPT_BYTES) break
    }
  } catch {
    // cut short (destroyed at maxMs, connection reset): the status line has already decided
  } finally {
    clearTimeout(timer)
    body.destroy()
  }
  if (size === 0) return null
  return Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8')
}
