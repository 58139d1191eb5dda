// A bounded shutdown (SHUTDOWN_TIMEOUT_MS, docs/operating.md "Starting and stopping"). The graceful
// stop (server.ts, tenants/tenant-gateway.ts, services.ts) runs as named steps; on SIGTERM/SIGINT it
// gets the budget, and a step that hangs (a database write waiting on a lock, a pool whose end()
// never resolves) no longer keeps the process alive until the supervisor's SIGKILL: one error line
// names the steps still running and the process exits with code 1. A second signal exits at once.
// What was not delivered is in the outbox, which is durable: it is sent after the restart.
import { systemClock, type Clock } from './clock.js'

/** Runs one named step of a shutdown; while it runs, its name is among the steps still running. */
export interface ShutdownSteps {
  run: <T>(name: string, step: () => Promise<T> | T) => Promise<T>
}

/** Steps nobody watches (a tenant rebuilt, a test's own close()). */
export const UNWATCHED: ShutdownSteps = { run: async (_name, step) => await step() }

/** The steps under way, by name, for the line that says what hung. */
export class StepTracker implements ShutdownSteps {
  private readonly running = new Map<number, string>()
  private next = 0

  async run<T> (name: string, step: () => Promise<T> | T): Promise<T> {
    const id = this.next++
    this.running.set(id, name)
    try {
      return await step()
    } finally {
      this.running.delete(id)
    }
  }

  /** The same tracker, each name prefixed (`tenant acme: database pool`). */
  scoped (prefix: string): ShutdownSteps {
    return { run: async (name, step) => await this.run(`${prefix}: ${name}`, step) }
  }

  /** The names of the steps running now, oldest first. */
  names (): string[] {
    return [...this.running.values()]
  }
}

/** The hard limit's time for the graceful parts (requests, deliveries, conversions): three quarters, the rest closes connections. */
export function drainBudget (shutdownMs: number): number {
  return Math.floor(shutdownMs * 0.75)
}

const OUTBOX_NOTE = 'events not yet delivered stay in the outbox (it is durable) and are sent after the restart'

/** `shutdown step 'database pool' still running` / `shutdown steps 'a', 'b' still running`. */
export function describeRunning (names: readonly string[]): string {
  if (names.length === 0) return 'shutdown still running'
  return `shutdown step${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')} still running`
}

export interface ShutdownLog {
  info: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface BoundedShutdownOptions {
  /** The graceful stop; its steps report to `steps`. */
  close: () => Promise<void>
  steps: StepTracker
  /** SHUTDOWN_TIMEOUT_MS. */
  budgetMs: number
  log: ShutdownLog
  exit?: (code: number) => void
  clock?: Clock
}

export interface BoundedShutdown {
  /** Starts the shutdown (once) and exits with `code` when it is done, or with 1 when the budget runs out first. */
  begin: (code: number) => void
  /** SIGTERM and SIGINT start it; a second one during the shutdown exits at once. */
  installSignals: () => void
}

export function boundedShutdown (opts: BoundedShutdownOptions): BoundedShutdown {
  const exit = opts.exit ?? ((code: number) => process.exit(code))
  const clock = opts.clock ?? systemClock
  let started = false
  const begin = (code: number): void => {
    if (started) return
    started = true
    // Not unref'd: a step waiting on nothing that keeps the loop alive must still end in this line.
    const deadline = clock.setTimeout(() => {
      const running = opts.steps.names()
      opts.log.error({ running, budgetMs: opts.budgetMs }, `${describeRunning(running)} after ${opts.budgetMs} ms (SHUTDOWN_TIMEOUT_MS): exiting with code 1 without waiting for it; ${OUTBOX_NOTE}`)
      exit(1)
    }, opts.budgetMs)
    opts.close().then(() => { clock.clearTimeout(deadline); exit(code) }, (err: unknown) => {
      clock.clearTimeout(deadline)
      opts.log.error({ err }, 'shutdown failed')
      exit(1)
    })
  }
  const onSignal = (signal: string): void => {
    if (!started) {
      opts.log.info({ signal }, 'signal received')
      begin(0)
      return
    }
    const running = opts.steps.names()
    opts.log.error({ signal, running }, `${signal} again during the shutdown: exiting at once with code 1 (${describeRunning(running)}); ${OUTBOX_NOTE}`)
    exit(1)
  }
  return {
    begin,
    installSignals: () => {
      process.on('SIGTERM', () => { onSignal('SIGTERM') })
      process.on('SIGINT', () => { onSignal('SIGINT') })
    }
  }
}
