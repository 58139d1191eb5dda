// Starts the gateway: (demo mode: the in-process simulator first), the services, the HTTP server;
// and stops it gracefully: stop accepting, finish in-flight requests, let deliveries and conversions
// finish or return to the outbox, close the database — within a bounded time.
import { readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import pino from 'pino'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { buildApp } from './app.js'
import { createServices, type GatewayServices } from './services.js'
import { loggerOptions } from './logger-options.js'
import { VERSION } from './version.js'
import type { Simulator } from './sim/simulator.js'
import { assertPortFree, describeListenError, listeningUrl } from './port-probe.js'
import { demoExamples, startDemoSimulator, type DemoSimulator } from './demo-simulator.js'
import { logDestination } from './log-format.js'
import { boundedShutdown, drainBudget, StepTracker } from './shutdown.js'
import { removeLeftByGone } from './process-alive.js'

export interface StartOptions {
  /** A pino destination for the logs (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream
  /** Passed to the services (short reconnect backoff in tests). */
  pbx?: Parameters<typeof createServices>[1]['pbx']
  /** Replicas on PostgreSQL: stream lease timing and replica id (tests). */
  lease?: Parameters<typeof createServices>[1]['lease']
  /** Call-log recovery timing (tests). */
  recovery?: Parameters<typeof createServices>[1]['recovery']
  /** Shutdown budget in ms (default SHUTDOWN_TIMEOUT_MS): on a signal the process exits when it runs out. */
  shutdownTimeoutMs?: number
}

export interface RunningGateway {
  app: FastifyInstance
  services: GatewayServices
  simulator: Simulator | null
  /** http://host:port the gateway listens on. */
  url: string
  close: () => Promise<void>
  installSignalHandlers: () => void
}

export async function startGateway (input: Config, opts: StartOptions = {}): Promise<RunningGateway> {
  const config: Config = { ...input, pbx: { ...input.pbx } }
  const logger = pino(loggerOptions(config.logLevel) as pino.LoggerOptions, logDestination(config.logFormat, opts.logStream)) as unknown as FastifyBaseLogger

  // Fail before the simulator, the services or the database start: a second gateway on a used port
  // must not run beside the first one.
  await assertPortFree(config.host, config.port, 'PORT')

  let demo: DemoSimulator | null = null
  let demoRunDir: string | null = null
  if (config.demo) {
    // Each demo run gets a fresh simulator whose call and recording ids start again: its state
    // (calls in progress, call counter, recording index, MP3s) must never meet a previous run's.
    // The simulator first: a taken SIM_PORT stops the start before any data folder is made.
    demo = await startDemoSimulator({ port: config.simPort, logger: logger.child({ component: 'simulator' }, { level: 'warn' }), trafficPerMinute: config.demoTrafficPerMinute, pbxClient: config.pbx })
    try {
      demoRunDir = await freshDemoRunDir(config.dataDir)
    } catch (err) {
      // The simulator already listens: left running, it would keep the failed process alive.
      await demo.stop().catch(() => {})
      throw dataDirError(err, config.dataDir)
    }
    config.recordings = { ...config.recordings, mp3Dir: config.recordings.mp3Dir === path.join(config.dataDir, 'mp3') ? path.join(demoRunDir, 'mp3') : config.recordings.mp3Dir }
    config.dataDir = demoRunDir
    logger.info({ dataDir: demoRunDir }, 'demo mode: this run keeps its data in a fresh folder, removed at shutdown (a real PBX keeps DATA_DIR itself)')
    config.pbx.url = demo.simulator.url
  }
  const simulator = demo?.simulator ?? null

  // Replicas: a process whose stream lease another replica took (it was cut off from the database
  // for longer than the lease) has stopped its stream; run by the CLI it exits, to start again as a standby.
  let onStreamLost: (() => void) | null = null
  /** Set once the server listens: the bound port (PORT=0 too) for recording links without PUBLIC_URL. */
  let listening: string | null = null
  const services = createServices(config, { listenUrl: () => listening, log: logger, simulatorUrl: simulator?.url, pbx: opts.pbx, lease: opts.lease, recovery: opts.recovery, onStreamLost: () => { onStreamLost?.() } })
  const app = await buildApp(services.deps, {
    loggerInstance: logger,
    checks: services.checks,
    ...(config.tls !== null ? { https: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } } : {})
  })

  // The plugins load and the routes' schemas compile (CPU) while the services wait for the PBX (its
  // token, identity and call log: round trips), instead of after them; listen() below waits for both
  // and reports a failed ready() as it did alone.
  const ready = (async () => { await app.ready() })()
  ready.catch(() => {})
  // A start that fails undoes what started (the plugins' timers, the services, the demo simulator and
  // its folder): the caller gets the error and nothing keeps the process alive.
  const undo = async (): Promise<void> => {
    await ready.catch(() => {})
    await app.close().catch(() => {})
    await services.stop(1000).catch(() => {})
    await demo?.stop().catch(() => {})
    if (demoRunDir !== null) await rm(demoRunDir, { recursive: true, force: true }).catch(() => {})
  }
  try {
    await services.start()
  } catch (err) {
    await undo()
    throw err
  }
  try {
    await ready
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    // Taken between the probe and now: undo what started, then say which port.
    await undo()
    throw describeListenError(err, config.host, config.port, 'PORT') ?? err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const url = listeningUrl(config.host, port, config.tls !== null)
  listening = url

  logStart(app.log, config, url, simulator)
  // prom-client is loaded a second after the gateway serves rather than before (~50 ms of the start-up,
  // issue 16), or at the first scrape if that comes sooner; the process's default metrics count from then.
  const loadMetrics = setTimeout(() => {
    services.metrics.registry().catch((err: unknown) => { app.log.warn({ err }, 'metrics: prom-client could not be loaded; the next scrape of /metrics tries again') })
  }, 1000)
  loadMetrics.unref()

  // SHUTDOWN_TIMEOUT_MS bounds the whole stop on a signal (shutdown.ts); the graceful parts get three quarters of it.
  const budget = opts.shutdownTimeoutMs ?? config.shutdownTimeoutMs
  const steps = new StepTracker()
  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      clearTimeout(loadMetrics)
      const drain = drainBudget(budget)
      app.log.info({ budgetMs: budget }, 'shutting down: no new requests; finishing in-flight requests, deliveries and conversions')
      const started = Date.now()
      // app.close() stops accepting and waits for in-flight requests (bounded by the server timeouts).
      await steps.run('HTTP requests', async () => { await withTimeout(app.close(), drain / 2) })
      await services.stop(Math.max(1000, drain - (Date.now() - started)), steps)
      await steps.run('demo simulator', async () => { await demo?.stop() })
      if (demoRunDir !== null) await rm(demoRunDir, { recursive: true, force: true }).catch(() => {})
      app.log.info({ ms: Date.now() - started }, 'shutdown complete')
    })()
    return await closing
  }

  const installSignalHandlers = (): void => {
    const shutdown = boundedShutdown({ close, steps, budgetMs: budget, log: app.log })
    onStreamLost = () => {
      app.log.error('exiting: this replica lost the PBX event stream to another one; a supervisor (Docker, systemd) starts it again as a standby')
      shutdown.begin(1)
    }
    shutdown.installSignals()
    // `systemctl reload`, `kill -HUP`: Node's default for SIGHUP is to exit. One PBX has nothing that
    // can be read again safely (its configuration is the environment it started with, which a running
    // process cannot be given anew): one line, and it keeps running (docs/operating.md "Signals").
    process.on('SIGHUP', () => {
      app.log.info({ signal: 'SIGHUP' }, 'SIGHUP received: a one-PBX gateway reads its configuration only at start, nothing was reloaded; still running (restart it to apply a change)')
    })
  }

  return { app, services, simulator, url, close, installSignalHandlers }
}

async function withTimeout (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

const DEMO_RUN_PREFIX = 'demo-run-'

/** `<DATA_DIR>/demo-run-<time>-<pid>`, after removing what earlier demo runs left (killed before their shutdown; a running one is kept). */
async function freshDemoRunDir (dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true })
  await removeLeftByGone(dataDir, (name) => name.startsWith(DEMO_RUN_PREFIX) ? Number(/^demo-run-\d+-(\d+)$/.exec(name)?.[1] ?? 0) : undefined)
  const dir = path.join(dataDir, `${DEMO_RUN_PREFIX}${Date.now()}-${process.pid}`)
  await mkdir(dir, { recursive: true })
  return dir
}

/** A DATA_DIR that cannot be made or read, named with its cause (a file of that name, no permission). */
function dataDirError (err: unknown, dataDir: string): Error {
  const code = (err as NodeJS.ErrnoException | null)?.code
  if (code === 'EEXIST' || code === 'ENOTDIR') return new Error(`DATA_DIR ${dataDir} is not a folder (a file has that name or is on its path); set DATA_DIR to a folder`, { cause: err })
  return new Error(`DATA_DIR ${dataDir} cannot be used: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

function logStart (log: FastifyBaseLogger, config: Config, url: string, sim: Simulator | null): void {
  const features = {
    webhooks: config.webhooks.targets.map((t) => t.name),
    recordings: config.recordings.source,
    tls: config.tls !== null,
    internalCalls: config.webhooks.internalCalls
  }
  if (sim !== null) {
    log.info({ version: VERSION, mode: 'demo', url, simulator: sim.url, features },
      `3cx-gateway ${VERSION} in DEMO MODE (no PBX_URL set): the built-in 3CX V20 simulator runs at ${sim.url} ` +
      `and places ${config.demoTrafficPerMinute} simulated calls a minute; API key "demo"; listening on ${url}${isLoopback(config.host) ? ' (loopback only)' : ` (HOST=${config.host})`}`)
    if (!isLoopback(config.host)) {
      log.warn({ host: config.host }, `demo mode listens on ${config.host}, not only on loopback: anyone who can reach this machine can use the well-known API key "demo" ` +
        'and place calls in the simulator; set HOST=127.0.0.1, or connect a PBX with GATEWAY_KEYS of your own')
    }
    for (const example of demoExamples(url)) log.info(`try: ${example}`)
    log.info(`API documentation: ${url}/docs — connect a real PBX by setting PBX_URL, PBX_CLIENT_ID, PBX_CLIENT_SECRET and GATEWAY_KEYS (see .env.example)`)
    return
  }
  log.info({ version: VERSION, mode: 'pbx', url, pbx: config.pbx.url, clientId: config.pbx.clientId, features },
    `3cx-gateway ${VERSION} listening on ${url}, PBX ${config.pbx.url}`)
  // On every interface (Docker, a LAN host) the links would name 127.0.0.1, which only this machine reaches.
  if (config.publicUrl === '' && config.recordings.source !== 'off' && (config.host === '0.0.0.0' || config.host === '::')) {
    log.warn({ host: config.host }, `PUBLIC_URL is not set: recording links in webhooks will say ${url}, which a CRM on another machine cannot open; ` +
      'set PUBLIC_URL to the address your CRM reaches this gateway at (e.g. http://gateway.lan:8080)')
  }
}
