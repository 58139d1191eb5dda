// The composition root: builds every long-lived service of the gateway from the configuration and
// wires them together (PBX clients → call model → outbox → delivery; directory cache; metrics;
// readiness checks). server.ts starts and stops them; tests build them against the simulator.
import { mkdirSync } from 'node:fs'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config.js'
import { createPbxClients, type PbxClients } from './pbx/pbx-clients.js'
import { CallModel } from './calls/call-model.js'
import { DidMapLoader } from './calls/did-map.js'
import { SqliteCallStateStore } from './store/sqlite-call-state.js'
import { SqliteUnseenCallStore } from './store/sqlite-unseen-calls.js'
import { createCallRecordLookup, createCallRecordsLookup } from './calls/pbx-call-record.js'
import { createCallTimesLookup } from './calls/pbx-call-times.js'
import { UnseenCalls } from './calls/unseen-calls.js'
import { CallRecovery } from './calls/call-recovery.js'
import { openDatabase, type SqliteDatabase } from './store/database.js'
import type { OutboxStore } from './webhooks/outbox-store.js'
import { SqliteOutbox } from './store/sqlite-outbox.js'
import { SqliteRecordingIndex } from './store/sqlite-recording-index.js'
import { SqliteStateOrigin } from './store/sqlite-state-origin.js'
import { createPgStore } from './store/pg/pg-pool.js'
import { PgKeyWindows } from './store/pg/pg-key-windows.js'
import { migratePg } from './store/pg/pg-migrations.js'
import { PgOutboxStore } from './store/pg/pg-outbox-store.js'
import { pgCallStores } from './store/pg/pg-call-state.js'
import { PgStateOrigin } from './store/pg/pg-state-origin.js'
import { PgRecordingIndex } from './store/pg/pg-recording-index.js'
import { moveSqliteRecordings } from './store/pg/pg-recordings-move.js'
import { openPgTenantsTable } from './store/pg/pg-tenants.js'
import type { TenantsTable } from './tenants/tenants-table.js'
import { PgStreamLease } from './store/pg/pg-stream-lease.js'
import { openPgReplicaRegistry } from './store/pg/pg-replica-registry.js'
import { replicaTiming } from './replicas/replica-timing.js'
import type { ReplicaRegistry } from './replicas/replica-registry.js'
import { PgSharedToken } from './store/pg/pg-shared-token.js'
import { PgLiveViews } from './store/pg/pg-live-views.js'
import { PgCallIds } from './store/pg/pg-call-ids.js'
import { ReplicaCallsView } from './replicas/replica-calls-view.js'
import { DEFAULT_PBX_ID, defaultReplicaId, type StreamLease, type StreamStatus } from './replicas/stream-lease.js'
import type { UnseenCallStore } from './calls/call-ports.js'
import { checkStateOrigin, discardEarlierRun, readPbxIdentity, type StateOriginStore } from './state-origin.js'
import { OriginWatch, readActiveCallStarts } from './origin-watch.js'
import { callLogCounterWentBack } from './pbx/call-log-query.js'
import { WebhookDelivery } from './webhooks/delivery.js'
import { isStorageError } from './storage-health.js'
import { DirectoryCache } from './directory/directory-cache.js'
import { createRecordingService, type RecordingService } from './recordings/recording-service.js'
import { GatewayMetrics } from './metrics.js'
import { cachedCheck, type ReadinessCheck } from './health.js'
import type { GatewayDeps } from './plugins/app/gateway.js'
import { listeningUrl } from './port-probe.js'
import { UNWATCHED, type ShutdownSteps } from './shutdown.js'

export interface GatewayServices {
  config: Config
  pbx: PbxClients
  calls: CallModel
  dids: DidMapLoader
  db: SqliteDatabase
  outbox: OutboxStore
  delivery: WebhookDelivery
  directory: DirectoryCache
  /** Null when RECORDINGS_SOURCE=off. */
  recordings: RecordingService | null
  metrics: GatewayMetrics
  checks: ReadinessCheck[]
  /** What the Fastify app is decorated with. */
  deps: GatewayDeps
  /** Connects to the PBX and starts the background work. */
  start: () => Promise<void>
  /** Stops background work (bounded), then closes the PBX clients and the database; each part a named step of `steps` (shutdown.ts). */
  stop: (timeoutMs?: number, steps?: ShutdownSteps) => Promise<void>
  /** Which replica holds the PBX's event stream (`single` without PostgreSQL). */
  stream: () => StreamStatus
}

/** The PostgreSQL schema of a tenant's tables (ids are checked: a lower-case letter, then letters, digits, _). */
export function tenantSchema (id: string): string {
  return `tenant_${id}`
}

export interface ServicesOptions {
  log: FastifyBaseLogger
  /** Demo mode: the in-process simulator's URL, shown by the info and health endpoints. */
  simulatorUrl?: string
  /** Short reconnect backoff etc. for tests. */
  pbx?: Parameters<typeof createPbxClients>[1]
  defaultMetrics?: boolean
  /** On PostgreSQL: another replica took this one's stream lease (its stream is stopped already). */
  onStreamLost?: (holder: string | null) => void
  /** Stream lease timing (default from REPLICA_LEASE_MS), replica id (default hostname:pid), a standby makecall's wait for the holder's ids. */
  lease?: { leaseMs?: number, renewMs?: number, replica?: string, takeGraceMs?: () => number, callIdWaitMs?: number }
  /** Call-log recovery timing (tests shorten it; the defaults are in calls/call-recovery.ts). */
  recovery?: { settleMs?: number, everyMs?: number }
  /**
   * The server's address once it listens (null before): the base of recording links without
   * PUBLIC_URL, with the port it bound (PORT=0 included; HOST:PORT said `:0`) and https under TLS.
   */
  listenUrl?: () => string | null
}

export function createServices (config: Config, opts: ServicesOptions): GatewayServices {
  const log = opts.log
  // A tenant's series carry its id (label `tenant`); the process's own metrics are the front server's.
  const metrics = new GatewayMetrics({ defaultMetrics: opts.defaultMetrics, ...(config.tenantId !== undefined ? { tenant: config.tenantId } : {}) })
  const pbx = createPbxClients(config, { logger: log.child({ component: 'pbx' }), observe: metrics.observePbx, ...opts.pbx })

  mkdirSync(config.dataDir, { recursive: true })
  // DATA_DIR/gateway.db: everything without DATABASE_URL; with it, only what is never shared.
  const db = openDatabase(config.dataDir)
  // A tenant's tables are in its own schema (tenant_<id>) of the one database.
  const pg = config.databaseUrl !== null ? createPgStore(config.databaseUrl, { max: config.databasePoolMax, ...(config.tenantId !== undefined ? { schema: tenantSchema(config.tenantId) } : {}) }) : null
  const replica = opts.lease?.replica ?? defaultReplicaId()
  // Every replica delivers: deliveries are claimed (FOR UPDATE SKIP LOCKED), leased a little longer than one attempt can take.
  const idScope = config.tenantId ?? config.pbx.url
  const pgOutbox = pg !== null ? new PgOutboxStore(pg, { targets: config.webhooks.targets, idScope, claim: { consumer: replica, leaseMs: config.webhooks.timeoutMs + 5000 } }) : null
  const outbox: OutboxStore = pgOutbox ?? new SqliteOutbox(db, { targets: config.webhooks.targets, idScope })
  // One queue for both, in order (a call leaves the unseen list only with or after its state): the
  // outbox's, so that a call's state commits in the transaction of the events that led to it.
  const pgCalls = pg !== null ? pgCallStores(pg, pgOutbox?.alongside) : null
  const pgCallState = pgCalls?.calls ?? null
  const pgUnseen = pgCalls?.unseen ?? null
  // Replicas on one database: only the lease holder opens the PBX's stream and fetches its tokens.
  // A tenant's lease is keyed by its id (in its own schema).
  const timing = replicaTiming(config.replicaLeaseMs)
  const lease: StreamLease | null = pg !== null ? new PgStreamLease(pg, { leaseMs: timing.leaseMs, renewMs: timing.renewMs, ...opts.lease, replica, pbxId: config.tenantId ?? DEFAULT_PBX_ID, log: log.child({ component: 'replicas' }) }) : null
  const sharedToken = pg !== null && lease !== null ? new PgSharedToken(pg, lease.status.pbxId, lease.status.replica) : null
  pbx.tokens.shared = sharedToken
  const single: StreamStatus = { role: 'single', pbxId: config.tenantId ?? DEFAULT_PBX_ID, replica, holder: replica, holderSince: new Date().toISOString() }
  const stream = (): StreamStatus => lease?.status ?? single
  // Every writer of gateway.db reports failed writes here: /readyz, the log and /metrics show them.
  const storage = outbox.health
  storage.log = log.child({ component: 'storage' })
  outbox.log = log.child({ component: 'webhooks' })
  const delivery = new WebhookDelivery({ outbox, config: config.webhooks, log: log.child({ component: 'webhooks' }) })
  const recordings = createRecordingService({
    config,
    // On PostgreSQL the index is shared: every replica converts (each recording claimed once) and
    // serves (MP3_DIR must be a shared directory); only the stream holder looks for new files.
    index: () => pg !== null ? new PgRecordingIndex(pg, replica, async () => { await pgOutbox?.written() }) : new SqliteRecordingIndex(db),
    looks: () => stream().role !== 'standby',
    xapi: pbx.xapi,
    log: log.child({ component: 'recordings' }),
    // SQLite: inside the index's transaction, the event and "announced" commit together.
    announce: (event) => { outbox.enqueue(event) },
    publicUrl: () => config.publicUrl !== '' ? config.publicUrl : `${opts.listenUrl?.() ?? listeningUrl(config.host, config.port, config.tls !== null)}${config.tenantId !== undefined ? `/t/${config.tenantId}` : ''}`
  })
  const dids = new DidMapLoader({ xapi: pbx.xapi, log: log.child({ component: 'did-map' }) })
  // Calls that began and ended while the gateway could not look (down, cut off, behind) are found
  // as gaps in the PBX's call counter and announced from its call log.
  const unseenStore: UnseenCallStore = pgUnseen ?? new SqliteUnseenCallStore(db)
  const unseen = new UnseenCalls({ store: unseenStore, log: log.child({ component: 'calls' }) })
  // The state above belongs to the PBX it came from: checked at start, before any of it is loaded.
  const origin: StateOriginStore = pg !== null ? new PgStateOrigin(pg) : new SqliteStateOrigin(db)
  const calls = new CallModel({
    unseen,
    timeZone: config.pbx.timezone,
    graceMs: config.webhooks.callEndGraceMs,
    oldestPendingChange: () => pbx.callControl.oldestPendingUpsert(),
    blindSince: () => pbx.callControl.blindSince(),
    internalCalls: config.webhooks.internalCalls,
    didLookup: (q) => dids.lookup(q),
    // Calls in progress survive a restart; their state commits with the outbox rows of their events.
    stateStore: pgCallState ?? new SqliteCallStateStore(db),
    // A call whose end fell into a gap is ended from the PBX's call log.
    callRecords: createCallRecordLookup(pbx.xapi),
    // A call first seen in progress is dated from the PBX's ActiveCalls, not from when the gateway looked.
    callTimes: createCallTimesLookup(pbx.xapi),
    // The outbox write is synchronous: the event is durable before anything else happens to it.
    onEvent: (e) => {
      outbox.enqueue(e)
      // Never throws on a full disk (the failed index write is reported to storage health).
      recordings?.onCallEvent(e)
    },
    log: log.child({ component: 'calls' })
  })
  // Replicas: standbys answer the live methods from the holder's published view.
  // A standby's makecall takes the call's ids from the holder's model (replicas/call-id-requests.ts).
  const callsView = pg !== null && lease !== null
    ? new ReplicaCallsView(calls, () => stream().role === 'standby', new PgLiveViews(pg, lease.status.pbxId), log.child({ component: 'replicas' }),
      { channel: new PgCallIds(pg, lease.status.pbxId), holderKnown: () => stream().holder !== null, waitMs: opts.lease?.callIdWaitMs })
    : null
  // A recording waits for its conversation's final end (a blind transfer nobody took comes back).
  recordings?.followCalls(calls)
  const unsubscribe = pbx.callControl.onChange((c) => { calls.apply(c) })
  const recovery = new CallRecovery({
    unseen,
    lookup: createCallRecordsLookup(pbx.xapi),
    live: () => pbx.callControl.connected && calls.synced,
    syncs: () => calls.syncs,
    monitored: (dns) => calls.monitors(dns),
    recover: (record) => { calls.recover(record) },
    log: log.child({ component: 'calls' }),
    ...opts.recovery
  })
  const directory = new DirectoryCache(pbx.xapi)
  // The PBX's call counter beginning again while running (PBX restarted or replaced): the same rule as at start.
  const originLog = log.child({ component: 'state-origin' })
  const originWatch = new OriginWatch({
    read: async () => await readActiveCallStarts(pbx.xapi),
    restarted: async (why) => {
      await discardEarlierRun({ store: origin, forgetInMemory: () => { unseen.reset(); return calls.discardAll() }, log: originLog }, why)
    },
    log: originLog
  })

  metrics.sources = {
    callsInProgress: () => calls.size(),
    callEndsOwed: () => calls.endsOwed(),
    wsReconnects: () => pbx.callControl.reconnects,
    wsConnected: () => pbx.callControl.connected,
    recoveredCalls: () => recovery.recovered,
    unseenCalls: () => unseen.size,
    callControlCatchUps: () => pbx.callControl.catchUps,
    // A damaged file must not take /metrics down with it (/readyz names the problem).
    outboxDepth: () => { try { return outbox.depthTotal() } catch { return undefined } },
    outboxHeld: () => outbox.heldCount,
    eventsRefused: () => outbox.refused,
    eventsRederived: () => outbox.rederived,
    storageWriteFailures: () => storage.failures,
    cacheStats: () => directory.stats(),
    deliveryStats: () => delivery.stats(),
    conversionQueue: () => recordings?.stats().pending ?? 0,
    conversions: () => recordings !== null ? { ...recordings.stats(), retries: recordings.retries } : { done: 0, failed: 0 },
    mp3DiskBytes: () => recordings?.stats().bytes ?? 0,
    heldRecordings: () => recordings?.stats().held ?? 0
  }

  const checks: ReadinessCheck[] = [
    cachedCheck({
      name: 'pbx',
      run: async () => {
        await pbx.xapi.get('SystemStatus', { timeoutMs: 2500, query: { select: ['Version'] } })
        return null
      }
    }, 5000),
    { name: 'token', run: async () => await tokenReadiness() },
    { name: 'websocket', run: async () => websocketReadiness() },
    { name: 'outbox', run: async () => outbox.readiness() },
    // Degraded, not unready: a receiver's trouble must not take the API out of service.
    { name: 'webhooks', run: async () => delivery.readiness() }
  ]

  // A standby has no WebSocket of its own: it is ready while another replica holds the stream.
  function websocketReadiness (): string | null {
    const s = stream()
    if (s.role === 'standby') return s.holder !== null ? null : `no replica holds the event stream of PBX ${s.pbxId} yet; this standby takes it when the lease is free`
    return pbx.callControl.connected ? null : 'the Call Control WebSocket is not connected; the gateway keeps reconnecting'
  }
  async function tokenReadiness (): Promise<string | null> {
    if (stream().role !== 'standby') return pbx.tokens.valid ? null : 'no valid access token (see the pbx check, or run 3cx-gateway doctor)'
    try {
      await pbx.tokens.getToken()
      return null
    } catch (err) {
      return err instanceof Error ? err.message : String(err)
    }
  }

  const deps: GatewayDeps = {
    config,
    xapi: pbx.xapi,
    callControl: pbx.callControl,
    calls: callsView ?? calls,
    directory,
    outbox,
    webhookDelivery: delivery,
    ...(recordings !== null ? { recordings, mp3Link: (xapiId: number) => recordings.linkForXapiId(xapiId) } : {}),
    metrics,
    stream,
    // With PostgreSQL the per-key limit holds across replicas (plugins/app/shared-window-counter.ts).
    ...(pg !== null ? { keyWindows: new PgKeyWindows(pg.pool) } : {}),
    ...(opts.simulatorUrl !== undefined ? { simulatorUrl: opts.simulatorUrl } : {})
  }

  // Delivered events are kept a week for the delivery log, then pruned.
  let pruneTimer: NodeJS.Timeout | null = null
  const prune = async (): Promise<void> => {
    try {
      const n = await outbox.prune(Date.now() - 7 * 86_400_000)
      if (n > 0) log.info({ deliveries: n }, 'pruned delivered webhook events older than 7 days')
    } catch (err) {
      if (isStorageError(err)) storage.failed('outbox pruning', err)
      else log.error({ err }, 'pruning the outbox failed')
    }
  }
  // The PBX's event stream: at start with SQLite, on taking the lease with PostgreSQL replicas.
  let streamOpen = false
  async function openStream (): Promise<void> {
    if (sharedToken !== null) {
      // The holder fetches its own token (which also cuts off a cut-off former holder's) and shares it.
      sharedToken.borrow = false
      pbx.tokens.forget()
    }
    // State another PBX left in DATA_DIR is discarded (not the outbox); then what the previous run
    // (or the previous holder) kept is loaded, before the first change from the PBX is applied.
    await checkStateOrigin({
      store: origin,
      readIdentity: async () => await readPbxIdentity(pbx.xapi),
      lastCall: async () => {
        const saved = await unseenStore.load()
        return saved.highest === null ? null : { callid: saved.highest, at: saved.highestAt ?? 0 }
      },
      counterWentBack: async (last) => await callLogCounterWentBack(pbx.xapi, last, Date.now()),
      log: originLog
    })
    await unseen.load()
    await calls.restore()
    await dids.start()
    pbx.callControl.start()
    recovery.start()
    originWatch.start()
    callsView?.lead()
    streamOpen = true
  }
  async function closeStream (): Promise<void> {
    if (!streamOpen) return
    streamOpen = false
    await callsView?.stopServingIds()
    unsubscribe()
    await originWatch.stop()
    await recovery.stop()
    calls.stop()
    dids.stop()
    await pbx.callControl.stop()
  }

  let started = false
  return {
    stream,
    config,
    pbx,
    calls,
    dids,
    db,
    outbox,
    delivery,
    directory,
    recordings,
    metrics,
    checks,
    deps,
    async start () {
      if (started) return
      started = true
      if (pg !== null) {
        // Concurrent starts against one database take turns (advisory lock); then what start-up needs at once.
        await migratePg(pg.pool, pg.name, undefined, pg.schema)
        const moved = await moveSqliteRecordings(db, pg)
        if (moved.legs + moved.recordings > 0) log.info({ ...moved, database: pg.name }, `recordings: moved the recordings index of ${config.dataDir} into ${pg.name}; copy its MP3s into the shared MP3_DIR if it is not that one`)
        await pgOutbox?.open()
      }
      delivery.start()
      await prune()
      pruneTimer = setInterval(() => { void prune() }, 3_600_000)
      pruneTimer.unref()
      await recordings?.start()
      if (lease === null) await openStream()
      else {
        await callsView?.follow()
        await lease.start({ acquired: openStream, lost: (holder) => { void closeStream().then(() => opts.onStreamLost?.(holder)) } })
      }
    },
    async stop (timeoutMs = 10_000, steps = UNWATCHED) {
      if (pruneTimer !== null) clearInterval(pruneTimer)
      await steps.run('PBX event stream', closeStream)
      const t0 = Date.now()
      await steps.run('MP3 conversions', async () => { await recordings?.stop(timeoutMs / 2) })
      await steps.run('webhook deliveries', async () => { await delivery.stop(Math.max(1000, timeoutMs - (Date.now() - t0))) })
      await steps.run('PBX connections', async () => { await pbx.close() })
      await steps.run('outbox', async () => { await outbox.close() })
      // PostgreSQL's write-behind: the last call states and the call counter are written before closing.
      for (const w of new Set([pgCallState?.writes, pgUnseen?.writes])) {
        if (w === undefined) continue
        if (!await steps.run('call-state writes', async () => await w.flush())) log.error({ database: pg?.name, waiting: w.size }, `stopping with ${w.size} call-state writes that could not be written to ${pg?.name ?? ''}: calls in progress are found again from the PBX at the next start`)
        w.close()
      }
      // Given back only now: the standby taking over finds every call state written.
      await steps.run('stream lease', async () => { await lease?.stop() })
      await steps.run('replica live view', async () => { await callsView?.stop() })
      await steps.run('database pool', async () => { await pg?.close() })
      db.close()
    }
  }
}

/** The replica registry of DATABASE_URL (tenants spread over the replicas: replicas/spread-keeper.ts). */
export async function openReplicaRegistry (url: string, replica: string, ttlMs?: number): Promise<ReplicaRegistry> {
  return await openPgReplicaRegistry(url, { replica, ttlMs })
}

/** The tenants table of DATABASE_URL (`3cx-gateway tenants …`, and serving its tenants). */
export async function openTenantsTable (url: string, create = true): Promise<TenantsTable> {
  return await openPgTenantsTable(url, create)
}
