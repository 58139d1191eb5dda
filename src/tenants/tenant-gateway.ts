// The gateway with TENANTS_FILE: one service graph and one Fastify app per tenant (its PBX, keys,
// webhook targets, storage), none of them listening, behind one front server on PORT that hands
// each request to its tenant's app (tenant-routing.ts) and answers /healthz, /readyz (every tenant)
// and /metrics (every tenant's series with its `tenant` label) itself. On PostgreSQL the replicas
// share the tenants' event streams out evenly (replicas/spread-keeper.ts): a tenant this replica
// gives back, or whose lease another replica took, is rebuilt as a standby (a fresh service graph:
// a stopped call model is not reused). With a source (TENANTS_FILE, the tenants table) the set
// changes while running (tenant-reload.ts reads it, tenant-diff.ts says what changed, reconcile() below applies it).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client'
import type { FastifyBaseLogger, FastifyInstance, HTTPMethods } from 'fastify'
import type { Config } from '../config.js'
import { buildApp } from '../app.js'
import { createServices, openReplicaRegistry, type GatewayServices, type ServicesOptions } from '../services.js'
import { SpreadKeeper } from '../replicas/spread-keeper.js'
import { replicaTiming } from '../replicas/replica-timing.js'
import { defaultReplicaId } from '../replicas/stream-lease.js'
import { evaluateReadiness, type ReadinessReport } from '../health.js'
import { loggerOptions } from '../logger-options.js'
import { logDestination } from '../log-format.js'
import { assertPortFree, describeListenError, listeningUrl } from '../port-probe.js'
import { VERSION } from '../version.js'
import { errorBody } from '../legacy/legacy-error.js'
import { answerClientError } from '../client-error.js'
import { answerHalfClosedClients } from '../half-open.js'
import { collectProcessMetrics } from '../metrics.js'
import { tenantConfig } from './tenant-config.js'
import type { TenantDefinition } from './tenants-file.js'
import { describeDiff, diffTenants, isEmptyDiff } from './tenant-diff.js'
import { TenantReloader, type SourceStatus, type TenantSource } from './tenant-reload.js'
import { prefixedLocation, TenantDirectory, tenantCookie, type RouteLocator } from './tenant-routing.js'
import { boundedShutdown, drainBudget, StepTracker, UNWATCHED } from '../shutdown.js'

export interface Tenant { id: string, services: GatewayServices, app: FastifyInstance }

export interface TenantGatewayOptions {
  logStream?: NodeJS.WritableStream
  pbx?: ServicesOptions['pbx']
  shutdownTimeoutMs?: number
  /** The spread's timing (default: from REPLICA_LEASE_MS, replicas/replica-timing.ts). */
  spread?: { everyMs?: number, settleMs?: number, minHoldMs?: number, orphanGraceMs?: number }
  /** This process's id among the replicas (default host:pid; tests run two in one process). */
  replica?: string
  /** Where the tenants come from: watched, and changes applied while running. */
  source?: TenantSource
}

export interface RunningTenantGateway {
  tenants: ReadonlyMap<string, Tenant>
  server: Server
  url: string
  close: () => Promise<void>
  installSignalHandlers: () => void
  /** Reads the source again and applies what changed (what SIGHUP or a table notification does); no source: nothing. */
  reload: () => Promise<void>
}

/** The console's login carries the key in its body: the front reads it (small) to pick the tenant. */
const LOGIN_PATH = '/console/api/login'
const LOGIN_BODY_LIMIT = 65_536

export async function startTenantGateway (base: Config, initial: readonly TenantDefinition[], opts: TenantGatewayOptions = {}): Promise<RunningTenantGateway> {
  const logger = pino(loggerOptions(base.logLevel) as pino.LoggerOptions, logDestination(base.logFormat, opts.logStream)) as unknown as FastifyBaseLogger
  await assertPortFree(base.host, base.port, 'PORT')
  const https = base.tls !== null ? { cert: readFileSync(base.tls.cert), key: readFileSync(base.tls.key) } : undefined

  const tenants = new Map<string, Tenant>()
  /** The front server's address once it listens (its bound port): recording links without PUBLIC_URL. */
  let listening: string | null = null
  /** The tenants being served (or starting), in the source's order. */
  let definitions: readonly TenantDefinition[] = initial
  let closing: Promise<void> | null = null
  // SHUTDOWN_TIMEOUT_MS bounds the stop on a signal (shutdown.ts); each tenant's steps are named with its id.
  const budget = opts.shutdownTimeoutMs ?? base.shutdownTimeoutMs
  const shutdownSteps = new StepTracker()
  const replica = opts.replica ?? defaultReplicaId()
  const timing = replicaTiming(base.replicaLeaseMs)
  const keeper = base.databaseUrl === null
    ? null
    : new SpreadKeeper({
      registry: await openReplicaRegistry(base.databaseUrl, replica, timing.heartbeatTtlMs),
      tenants: () => definitions.map((d) => ({ id: d.id, stream: () => tenants.get(d.id)?.services.stream() ?? null })),
      release: async (id) => { await rebuild(id, 'given back to even the spread') },
      ...timing.spread,
      ...opts.spread,
      log: logger.child({ component: 'replicas' })
    })
  const build = async (def: TenantDefinition): Promise<Tenant> => {
    const config = tenantConfig(base, def)
    const log = logger.child({ tenant: def.id })
    // The process's own metrics (memory, event loop) once, in the front's registry, not per tenant.
    const services = createServices(config, {
      log,
      listenUrl: () => listening,
      pbx: opts.pbx,
      defaultMetrics: false,
      lease: { replica, takeGraceMs: () => keeper?.graceFor(def.id) ?? 0 },
      onStreamLost: () => { void rebuild(def.id, 'another replica took its lease') }
    })
    const app = await buildApp(services.deps, { loggerInstance: log, checks: services.checks, ...(https !== undefined ? { https } : {}) })
    return { id: def.id, services, app }
  }
  // A tenant given back or lost: stopped as at shutdown (its state written, its lease expired), then a
  // fresh one as a standby. Its API answers from the old one (stopped: PBX calls fail) until the new one is ready.
  const rebuilding = new Map<string, Promise<void>>()
  let builds: Promise<void> = Promise.resolve()
  const rebuild = async (id: string, why: string, again = false): Promise<void> => {
    if (!definitions.some((d) => d.id === id) || !tenants.has(id) || closing !== null) return
    // `again`: the settings changed, so a rebuild that already started from the old ones does not count.
    if (again) await rebuilding.get(id)?.catch(() => {})
    const current = tenants.get(id)
    if (current === undefined) return
    const running = (again ? undefined : rebuilding.get(id)) ?? (async () => {
      logger.info({ tenant: id, replica }, `tenant ${id}: stopping its stream here (${why})`)
      // Stopped first: the lease is free (and the other replica's stream open) the sooner.
      await current.services.stop(opts.shutdownTimeoutMs ?? 10_000).catch((err: unknown) => { logger.error({ err, tenant: id }, 'stopping a tenant failed') })
      // One build at a time: building an app takes the CPU for a while, and the tenants still held
      // here must keep up with their PBXs meanwhile.
      const turn = builds.then(async () => {
        // Its definition as it is now (the settings may have changed meanwhile); removed meanwhile: nothing.
        const def = definitions.find((d) => d.id === id)
        if (def === undefined) return
        const fresh = await build(def)
        await fresh.services.start()
        await fresh.app.ready()
        tenants.set(id, fresh)
      })
      builds = turn.catch(() => {})
      await turn
      await current.app.close().catch(() => {})
    })().finally(() => { rebuilding.delete(id) })
    rebuilding.set(id, running)
    await running
  }
  /** `steps`: at shutdown, each part named (a tenant's with its id) for the line saying what hung. */
  const stopAll = async (budgetMs: number, steps: StepTracker | null = null): Promise<void> => {
    // Out of the registry first: the other replicas take this one's tenants as soon as each is given back.
    await (steps ?? UNWATCHED).run('replica registry', async () => { await keeper?.stop() })
    await (steps ?? UNWATCHED).run('tenant rebuilds', async () => { await Promise.all([...rebuilding.values()].map(async (p) => { await p.catch(() => {}) })) })
    await Promise.all([...tenants.values()].map(async (t) => {
      const mine = steps?.scoped(`tenant ${t.id}`) ?? UNWATCHED
      await mine.run('HTTP requests', async () => { await t.app.close().catch(() => {}) })
      await t.services.stop(budgetMs, mine).catch((err: unknown) => { logger.error({ err, tenant: t.id }, 'stopping a tenant failed') })
    }))
  }
  // A tenant no longer listed: out of routing at once (its API answers 404 UNKNOWN_TENANT), then
  // stopped as at shutdown: its deliveries drained within the budget, its state written, its lease given back.
  const remove = async (id: string): Promise<void> => {
    await rebuilding.get(id)?.catch(() => {})
    const t = tenants.get(id)
    if (t === undefined) return
    tenants.delete(id)
    await t.services.stop(opts.shutdownTimeoutMs ?? 10_000).catch((err: unknown) => { logger.error({ err, tenant: id }, 'stopping a removed tenant failed') })
    await t.app.close().catch(() => {})
    logger.info({ tenant: id }, `tenant ${id} removed and stopped`)
  }
  // A new tenant: built in the builds' turn, started, then routed to; the spread gives its stream to a replica.
  const add = async (def: TenantDefinition): Promise<void> => {
    const turn = builds.then(async () => {
      const t = await build(def)
      try {
        await t.services.start()
        await t.app.ready()
      } catch (err) {
        await t.services.stop(1000).catch(() => {})
        await t.app.close().catch(() => {})
        throw err
      }
      if (closing !== null) { await t.services.stop(1000); await t.app.close(); return }
      tenants.set(def.id, t)
    })
    builds = turn.catch(() => {})
    await turn
  }
  /** Applies a new set of tenants (one call at a time: TenantReloader). */
  const reconcile = async (next: readonly TenantDefinition[]): Promise<void> => {
    const diff = diffTenants(definitions, next)
    if (isEmptyDiff(diff) || closing !== null) return
    logger.info({ added: diff.added.map((d) => d.id), removed: diff.removed, rebuilt: diff.rebuilt.map((d) => d.id), rekeyed: diff.rekeyed.map((d) => d.id) }, `the tenants changed (${describeDiff(diff)})`)
    // Every new key, and no old one, at once: routing, and the running apps' own checks.
    definitions = next.filter((d) => tenants.has(d.id))
    for (const d of [...diff.rekeyed, ...diff.rebuilt]) tenants.get(d.id)?.app.apiKeys.replaceKeys(d.keys)
    route()
    await Promise.all([
      ...diff.removed.map(remove),
      ...diff.rebuilt.map(async (d) => { await rebuild(d.id, 'its settings changed', true) }),
      ...diff.added.map(async (d) => {
        try {
          await add(d)
        } catch (err) {
          // Left out: the next reload tries it again.
          logger.error({ err, tenant: d.id }, `tenant ${d.id} could not be started; it is tried again at the next reload`)
          return
        }
        definitions = next.filter((x) => tenants.has(x.id))
        route()
        logger.info({ tenant: d.id }, `tenant ${d.id} added`)
      })
    ])
  }

  try {
    for (const def of definitions) tenants.set(def.id, await build(def))
    // Tenants start side by side: one slow PBX does not hold the others back.
    await Promise.all([...tenants.values()].map(async (t) => { await t.services.start(); await t.app.ready() }))
    // Registered once every tenant can take its stream: the others give tenants to a replica only when it can hold them.
    await keeper?.start()
  } catch (err) {
    await stopAll(1000)
    throw err
  }

  // Every tenant's app has the same routes: any one's router reads the key's place in a URL.
  const locate: RouteLocator = (method, url) => tenants.values().next().value?.app.findRoute({ method: method as HTTPMethods, url }) ?? null
  let directory = new TenantDirectory(definitions, definitions[0]?.id ?? '', locate)
  /** Routing by the tenants served now (the first one is the fallback; none left: every request 404). */
  function route (): void {
    directory = new TenantDirectory(definitions, definitions[0]?.id ?? '', locate)
  }
  const processMetrics = new Registry()
  collectProcessMetrics({ collectDefaultMetrics }, processMetrics)
  const secure = https !== undefined

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const route = directory.route({ method: req.method, url: req.url ?? '/', headers: req.headers })
    if (route.kind === 'unknown-tenant') {
      unknownTenant(res, route.id)
      return
    }
    if (route.kind === 'front') {
      void answerFront(route.path, res).catch((err: unknown) => {
        logger.error({ err }, `answering ${route.path} failed`)
        if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL', 'Internal error'))
      })
      return
    }
    const tenant = tenants.get(route.id)
    if (tenant === undefined) {
      // Removed while the request was routed, or no tenant left to fall back to.
      unknownTenant(res, route.id)
      return
    }
    if (req.method === 'POST' && route.url.split('?')[0] === LOGIN_PATH) {
      // /t/<id>/console/api/login names its tenant; the plain path lets the key choose.
      void consoleLogin(req, res, route.url, route.url !== req.url ? route.id : undefined).catch((err: unknown) => {
        logger.error({ err }, 'console login failed')
        if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL', 'Internal error'))
      })
      return
    }
    req.url = route.url
    if (route.prefix !== undefined) keepPrefixOnRedirects(res, route.prefix)
    tenant.app.server.emit('request', req, res)
  }

  /** The login's key names the tenant: the request goes to that tenant's app, and the answer sets `gw_tenant`. */
  const consoleLogin = async (req: IncomingMessage, res: ServerResponse, url: string, named: string | undefined): Promise<void> => {
    const body = await readBody(req, LOGIN_BODY_LIMIT)
    if (body === null) { sendJson(res, 413, errorBody('BODY_TOO_LARGE', `The login body is larger than ${LOGIN_BODY_LIMIT} bytes`)); return }
    let key: string | undefined
    try { key = (JSON.parse(body.toString('utf8')) as { key?: unknown }).key as string | undefined } catch { key = undefined }
    const id = named ?? directory.ownerOf(typeof key === 'string' ? key : undefined) ?? directory.fallback
    const tenant = tenants.get(id)
    if (tenant === undefined) { unknownTenant(res, id); return }
    const answer = await tenant.app.inject({
      method: 'POST', url, payload: body, headers: req.headers as Record<string, string>,
      // The per-address throttle of failed logins sees the real client (and TRUST_PROXY's rules).
      remoteAddress: req.socket.remoteAddress ?? '127.0.0.1'
    })
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') headers[name] = Array.isArray(value) ? value.map(String) : String(value)
    if (answer.statusCode === 200) {
      const cookies = headers['set-cookie'] ?? []
      headers['set-cookie'] = [...(Array.isArray(cookies) ? cookies : [cookies]), tenantCookie(tenant.id, secure || req.headers['x-forwarded-proto'] === 'https')]
    }
    res.writeHead(answer.statusCode, headers)
    res.end(answer.rawPayload)
  }

  /** Follows the tenants' source once the server listens (null: no source to follow). */
  let reloader: TenantReloader | null = null
  const answerFront = async (path: string, res: ServerResponse): Promise<void> => {
    if (path === '/healthz') { sendJson(res, 200, { status: 'ok', product: '3cx-gateway', version: VERSION, mode: 'tenants', tenants: tenants.size }); return }
    if (path === '/readyz') {
      // Each tenant's report names the replica holding its stream (as the tenant's own /readyz does).
      const reports = await Promise.all([...tenants.values()].map(async (t) => [t.id, { ...await evaluateReadiness(t.services.checks), stream: t.services.stream() }] as const))
      const body = { ...readinessOfTenants(reports, reloader?.status()), ...(keeper !== null ? { replicas: keeper.status } : {}) }
      sendJson(res, body.ready || body.unready.length < reports.length ? 200 : 503, body)
      return
    }
    const registries = [processMetrics, ...await Promise.all([...tenants.values()].map(async (t) => await t.services.metrics.registry()))]
    const merged = AggregatorRegistry.aggregate(await Promise.all(registries.map(async (r) => await r.getMetricsAsJSON())))
    res.writeHead(200, { 'content-type': merged.contentType })
    res.end(await merged.metrics())
  }

  const server = https !== undefined ? createHttpsServer(https, handle) : createHttpServer(handle)
  server.on('clientError', answerClientError.bind({ log: logger }))
  answerHalfClosedClients(server)
  server.requestTimeout = 60_000
  server.keepAliveTimeout = 72_000
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(base.port, base.host, () => { server.off('error', reject); resolve() })
    })
  } catch (err) {
    await stopAll(1000)
    throw describeListenError(err, base.host, base.port, 'PORT') ?? err
  }
  const port = (server.address() as AddressInfo).port
  const url = listeningUrl(base.host, port, secure)
  listening = url
  reloader = opts.source === undefined ? null : new TenantReloader(opts.source, reconcile, logger)
  try {
    await reloader?.start()
  } catch (err) {
    server.close()
    await stopAll(1000)
    throw err
  }
  logger.info({ version: VERSION, mode: 'tenants', url, tenants: [...tenants.keys()] }, tenants.size > 0
    ? `3cx-gateway ${VERSION} listening on ${url} for ${tenants.size} tenants (${[...tenants.keys()].join(', ')})`
    : `3cx-gateway ${VERSION} listening on ${url}, no tenants yet: ${opts.source?.describe ?? 'the tenants'} is followed, and a tenant added there is served without a restart`)

  const close = async (): Promise<void> => {
    closing ??= (async () => {
      const drain = drainBudget(budget)
      const started = Date.now()
      logger.info({ budgetMs: budget }, 'shutting down every tenant')
      await shutdownSteps.run('HTTP requests', async () => {
        const closed = new Promise<void>((resolve) => { server.close(() => { resolve() }) })
        server.closeIdleConnections()
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, drain / 2).unref())])
        server.closeAllConnections()
      })
      // No reload starts now; one under way finishes first (a tenant it is starting is then stopped with the rest).
      await shutdownSteps.run('tenant reload', async () => { await reloader?.stop() })
      await stopAll(Math.max(1000, drain - (Date.now() - started)), shutdownSteps)
      logger.info({ ms: Date.now() - started }, 'shutdown complete')
    })()
    return await closing
  }
  const installSignalHandlers = (): void => { boundedShutdown({ close, steps: shutdownSteps, budgetMs: budget, log: logger }).installSignals() }
  const reload = async (): Promise<void> => { await reloader?.reload() }
  return { tenants, server, url, close, installSignalHandlers, reload }
}

/**
 * /readyz of the front: each tenant's report under its id; `ready` when all are. It answers 200 while
 * any tenant is ready (one tenant's PBX being down must not take every other tenant out of a load
 * balancer), and with no tenant at all: a gateway installed with an empty tenants table works as
 * configured (it serves each tenant added), and a health check must not call it unhealthy until then
 * — unless its source of tenants cannot be read: then it cannot learn of one either, and says why.
 * `source`: how the last read of TENANTS_FILE or the tenants table went (running tenants are kept
 * when it fails, so with tenants it is shown, not judged).
 */
export function readinessOfTenants (reports: ReadonlyArray<readonly [string, ReadinessReport]>, source?: SourceStatus): { ready: boolean, mode: 'tenants', unready: string[], degraded: string[], tenants: Record<string, ReadinessReport>, source?: SourceStatus, note?: string } {
  const out: Record<string, ReadinessReport> = {}
  for (const [id, r] of reports) out[id] = r
  const unreadable = reports.length === 0 && source?.ok === false
  return {
    ready: reports.every(([, r]) => r.ready) && !unreadable,
    mode: 'tenants',
    unready: reports.filter(([, r]) => !r.ready).map(([id]) => id),
    degraded: reports.filter(([, r]) => r.degraded.length > 0).map(([id]) => id),
    tenants: out,
    ...(source !== undefined ? { source } : {}),
    ...(reports.length === 0
      ? { note: unreadable ? `no tenants, and ${source?.source ?? 'the tenants\' source'} cannot be read: ${source?.problem ?? ''}` : 'no tenants yet: each tenant added (3cx-gateway tenants add, or TENANTS_FILE and SIGHUP) is served without a restart' }
      : {})
  }
}

/**
 * A tenant's app answers a request whose /t/<id> prefix the front removed: a redirect it sends
 * (`/console` → `/console/`) gets the prefix back, or the browser would leave the tenant.
 */
function keepPrefixOnRedirects (res: ServerResponse, prefix: string): void {
  const writeHead = res.writeHead
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const set = res.getHeader('location')
    if (typeof set === 'string') res.setHeader('location', prefixedLocation(set, prefix))
    const headers = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) as Record<string, unknown> | undefined
    for (const name of Object.keys(headers ?? {})) {
      const value = headers?.[name]
      if (name.toLowerCase() === 'location' && typeof value === 'string' && headers !== undefined) headers[name] = prefixedLocation(value, prefix)
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
  } as ServerResponse['writeHead']
}

function unknownTenant (res: ServerResponse, id: string): void {
  // '': no tenant to fall back to (none served yet, or all removed).
  if (id === '') sendJson(res, 404, errorBody('NO_TENANTS', 'This gateway serves no tenant yet: add one (3cx-gateway tenants add, or TENANTS_FILE)'))
  else sendJson(res, 404, errorBody('UNKNOWN_TENANT', `There is no tenant "${id.slice(0, 40)}" on this gateway`))
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

/** The request body, or null once it passes `limit` bytes. */
async function readBody (req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) return null
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
