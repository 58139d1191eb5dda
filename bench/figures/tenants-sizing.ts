// tenants-sizing: one gateway replica on PostgreSQL (a throwaway database) serving 1, 10, 25 and 50
// tenants (quick: 1 and 10), each on its own simulator, every simulator under the same steady
// traffic. Per step: RSS (after a full GC) and what it grows per tenant, CPU time per delivered
// event, calls in progress the replica sustained, and the latency of each ringing/started webhook to
// the simulator's send time of the participant change that caused it (event-latency's matching).
// The machine is shared: every step notes the load average it ran under. A replica may open 10
// connections per tenant (pg-pool.ts), more than a shared server allows (and would take the
// connections its other clients need): the figure starts a PostgreSQL cluster of its own from
// Debian's binaries (bench/pg-cluster.ts, as the tests that restart their database) with enough
// max_connections, and is skipped, saying so, only without those binaries. With PG_URL set it uses
// that server instead, and is skipped when it allows too few connections.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { BenchOptions, Figure, FigureResult } from '../figure.js'
import { benchDatabase, skippedWithoutPg, withBenchDatabase } from '../pg-database.js'
import { missing, ownCluster } from '../pg-cluster.js'
import { benchTmp } from '../paths.js'
import { startChild } from '../processes.js'
import { mean, percentile, round, sleep, waitFor } from '../stats.js'
import type { GatewayInfo } from '../child/gateway-process.js'
import type { SimsInfo } from '../child/sims-process.js'
import { match, simEvents, startReceiver, type Received, type SimEvent } from './event-latency.js'

export const SIZING_TARGET = 'every tenant held and delivering at 50 tenants; RSS ≤ 8 MB per tenant'

/** Each tenant's PBX: a new call every 2.5 s, ringing ≤ 1.5 s, talking ≤ 20 s; the warm-up outlasts the longest call. */
const CALLS_PER_SECOND_PER_TENANT = 0.4
const MAX_TALK_MS = 20_000
const WARMUP_S = 15

interface Stats { tenants: number, holding: number, calls: number, delivered: number }
interface Memory { rssMb: number, heapUsedMb: number }

export interface SizingStep {
  tenants: number
  startS: number
  rssIdleMb: number
  rssLoadedMb: number
  heapLoadedMb: number
  callsInProgress: { mean: number, max: number }
  eventsPerS: number
  cpuMsPerEvent: number
  cpuShare: number
  /** The simulators' process (one for all tenants) over the same window, as a share of a core. */
  simsCpuShare: number
  latencyMs: { n: number, p50: number, p99: number }
  /** The replica's connections to the database (pg_stat_activity), sampled every second. */
  pgConnections: { mean: number, max: number }
  load1: number
}

/** The tenants file: tenant t<i> on simulator i, its webhooks to the receiver's /hook/t<i>. */
function tenantsYaml (simUrls: readonly string[], receiverUrl: string): string {
  return 'tenants:\n' + simUrls.map((url, i) => `  - id: t${i}
    pbx: { url: '${url}', clientId: '599', clientSecret: 'sim-secret' }
    keys: [{ key: 'tenant-${i}-key-0123456789abcdef', scope: control }]
    webhooks: [{ name: hook, url: '${receiverUrl}/t${i}' }]
`).join('')
}

async function step (tenants: number, seconds: number, databaseUrl: string, log: (line: string) => void): Promise<SizingStep> {
  mkdirSync(benchTmp, { recursive: true })
  const dir = mkdtempSync(path.join(benchTmp, `sizing-${tenants}-`))
  const receiver = await startReceiver()
  const sims = await startChild<SimsInfo>('sims-process', `sizing-${tenants}-sims`, { env: { BENCH_SIMS: String(tenants) }, readyTimeoutMs: 120_000 })
  try {
    writeFileSync(path.join(dir, 'tenants.yaml'), tenantsYaml(sims.info.urls, receiver.url))
    const t0 = Date.now()
    const gateway = await startChild<GatewayInfo>('tenants-gateway-process', `sizing-${tenants}-gateway`, {
      execArgv: ['--expose-gc'],
      readyTimeoutMs: 180_000,
      env: { TENANTS_FILE: path.join(dir, 'tenants.yaml'), DATABASE_URL: databaseUrl, DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', RECORDINGS_SOURCE: 'off', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '10000000' }
    })
    try {
      await waitFor('the replica to hold every tenant\'s stream', async () => (await gateway.call<Stats>('stats')).holding === tenants, 120_000, 200)
      const startS = round((Date.now() - t0) / 1000, 1)
      const idle = await gateway.call<Memory>('settledMemory', { settleMs: 1000 })
      const body = JSON.stringify({ callsPerSecond: CALLS_PER_SECOND_PER_TENANT, seconds: WARMUP_S + seconds, seed: 11, maxRingMs: 1500, maxTalkMs: MAX_TALK_MS, recordShare: 0 })
      await Promise.all(sims.info.urls.map(async (url) => {
        const res = await fetch(`${url}/_sim/traffic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        if (res.status !== 202) throw new Error(`/_sim/traffic answered ${res.status}`)
      }))
      await sleep(WARMUP_S * 1000)
      const since = await Promise.all(sims.info.urls.map(async (url) => (await simEvents(url, 0)).lastSequence))
      const before = { stats: await gateway.call<Stats>('stats'), cpu: await gateway.call<number>('cpuMicros'), simsCpu: await sims.call<number>('cpuMicros'), at: Date.now() }
      const calls: number[] = []
      const loads: number[] = []
      const connections: number[] = []
      const counter = new pg.Client({ connectionString: databaseUrl })
      await counter.connect()
      try {
        while (Date.now() - before.at < seconds * 1000) {
          await sleep(1000)
          calls.push((await gateway.call<Stats>('stats')).calls)
          loads.push(os.loadavg()[0])
          connections.push((await counter.query<{ n: number }>('SELECT count(*)::int - 1 AS n FROM pg_stat_activity WHERE datname = current_database()')).rows[0].n)
        }
      } finally {
        await counter.end()
      }
      const after = { stats: await gateway.call<Stats>('stats'), cpu: await gateway.call<number>('cpuMicros'), simsCpu: await sims.call<number>('cpuMicros'), at: Date.now() }
      const loaded = await gateway.call<Memory>('settledMemory', { settleMs: 1000 })
      // The webhooks of the window's last changes arrive a moment later.
      await sleep(3000)
      const latencies = (await Promise.all(sims.info.urls.map(async (url, i) => {
        const events: SimEvent[] = (await simEvents(url, since[i])).events
        const mine: Received[] = receiver.received.filter((r) => r.path === `/hook/t${i}` && r.at <= after.at)
        const m = match(mine, events, since[i])
        return [...m.ringing, ...m.started]
      }))).flat()
      const events = after.stats.delivered - before.stats.delivered
      const cpuMs = (after.cpu - before.cpu) / 1000
      const wallMs = after.at - before.at
      const result: SizingStep = {
        tenants,
        startS,
        rssIdleMb: idle.rssMb,
        rssLoadedMb: loaded.rssMb,
        heapLoadedMb: loaded.heapUsedMb,
        callsInProgress: { mean: round(mean(calls), 1), max: Math.max(...calls) },
        eventsPerS: round(events / (wallMs / 1000), 1),
        cpuMsPerEvent: events > 0 ? round(cpuMs / events, 2) : NaN,
        cpuShare: round(cpuMs / wallMs, 2),
        simsCpuShare: round((after.simsCpu - before.simsCpu) / 1000 / wallMs, 2),
        latencyMs: { n: latencies.length, p50: round(percentile(latencies, 50), 1), p99: round(percentile(latencies, 99), 1) },
        pgConnections: { mean: round(mean(connections), 1), max: Math.max(...connections) },
        load1: round(mean(loads), 1)
      }
      log(`  ${tenants} tenants: started in ${startS} s, RSS ${result.rssIdleMb} MB idle / ${result.rssLoadedMb} MB loaded, ${result.callsInProgress.mean} calls in progress, ${result.eventsPerS} events/s, ${result.cpuMsPerEvent} ms CPU/event (${Math.round(result.cpuShare * 100)} % of a core; the simulators ${Math.round(result.simsCpuShare * 100)} %), latency p50 ${result.latencyMs.p50} / p99 ${result.latencyMs.p99} ms, ${result.pgConnections.max} database connections, load average ${result.load1}`)
      return result
    } finally {
      await gateway.stop()
    }
  } finally {
    await sims.stop()
    await receiver.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function maxConnections (url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return Number((await c.query<{ max_connections: string }>('SHOW max_connections')).rows[0].max_connections)
  } finally {
    await c.end()
  }
}

/** MB of RSS each further tenant adds: the slope from the smallest to the largest step, loaded. */
export function rssPerTenant (steps: ReadonlyArray<Pick<SizingStep, 'tenants' | 'rssLoadedMb'>>): number {
  if (steps.length < 2) return NaN
  const first = steps[0]
  const last = steps[steps.length - 1]
  return round((last.rssLoadedMb - first.rssLoadedMb) / (last.tenants - first.tenants), 2)
}

/** The figure on the server at `server` (its postgres database), which must allow `needed` connections. */
async function sizing (opts: BenchOptions, counts: readonly number[], needed: number, server: string): Promise<FigureResult> {
  return await withBenchDatabase(tenantsSizing, SIZING_TARGET, async (first) => {
    const allowed = await maxConnections(first)
    if (allowed < needed) return skippedWithoutPg(tenantsSizing, SIZING_TARGET, `max_connections is ${allowed}; ${counts[counts.length - 1]} tenants on one replica may need ${needed}`, { problem: 'the PostgreSQL server allows too few connections', remedy: `Raise max_connections to ${needed} or more (or point PG_URL at a server that allows it)` })
    return await measure(opts, counts, first, server)
  }, server)
}

export const tenantsSizing: Figure = {
  id: 'tenants-sizing',
  title: 'Tenants per replica on PostgreSQL (RSS, CPU per event, calls in progress, latency)',
  async run (opts) {
    const counts = opts.quick ? [1, 10] : [1, 10, 25, 50]
    const needed = 10 * counts[counts.length - 1] + 10
    if (process.env.PG_URL !== undefined) return await sizing(opts, counts, needed, process.env.PG_URL)
    const why = missing()
    if (why !== null) return skippedWithoutPg(tenantsSizing, SIZING_TARGET, why, { problem: 'no PostgreSQL server binaries to start a cluster of its own', remedy: `Install them, or set PG_URL to a server allowing ${needed} connections`, local: true })
    // Headroom over `needed` for the benchmark's own connections (the connection counter, each step's CREATE/DROP DATABASE).
    const cluster = await ownCluster({ teardown: () => {} }, { max_connections: String(needed + 50) })
    opts.log(`  a PostgreSQL cluster of its own at 127.0.0.1:${cluster.port} (max_connections ${needed + 50})`)
    try {
      return await sizing(opts, counts, needed, cluster.url)
    } finally {
      await cluster.destroy()
    }
  }
}

async function measure (opts: BenchOptions, counts: readonly number[], first: string, server: string): Promise<FigureResult> {
  const seconds = opts.quick ? 10 : 20
  const steps: SizingStep[] = []
  // A fresh database for every step (the first one's is the figure's): no step starts on another's outbox.
  for (const n of counts) {
    const db = n === counts[0] ? { url: first, drop: async () => {} } : await benchDatabase(server)
    if ('unavailable' in db) throw new Error(db.unavailable)
    try {
      steps.push(await step(n, seconds, db.url, opts.log))
    } finally {
      await db.drop()
    }
  }
  const perTenant = rssPerTenant(steps)
  const largest = steps[steps.length - 1]
  const text = steps.map((s) => `${s.tenants}: ${s.rssLoadedMb} MB, ${s.callsInProgress.mean} calls, ${s.eventsPerS} ev/s, ${s.cpuMsPerEvent} ms CPU/ev, p99 ${s.latencyMs.p99} ms, ${s.pgConnections.max} connections (load ${s.load1})`).join('; ')
  return {
    id: tenantsSizing.id,
    title: tenantsSizing.title,
    value: perTenant,
    unit: 'MB RSS per tenant',
    summary: `${perTenant} MB RSS per tenant; per step (tenants: RSS loaded, calls in progress, events/s, CPU per event, latency p99, database connections, load average) ${text}`,
    ceiling: null,
    comparison: 'the same replica with 1 tenant',
    ratio: null,
    target: { text: SIZING_TARGET, met: largest.eventsPerS > 0 && perTenant <= 8 },
    details: { callsPerSecondPerTenant: CALLS_PER_SECOND_PER_TENANT, maxTalkMs: MAX_TALK_MS, seconds, warmupS: WARMUP_S, steps },
    notes: [
      `Each tenant's simulator starts a call every ${1 / CALLS_PER_SECOND_PER_TENANT} s (ring ≤ 1.5 s, talk ≤ ${MAX_TALK_MS / 1000} s, the simulator's traffic mix); the simulators share one process, the receiver is in the benchmark's process, both on the same machine as the replica and PostgreSQL.`,
      'RSS is read after a full GC and a second for V8 to return the freed pages; CPU is the replica\'s user + system time over the measured window divided by the webhooks it delivered in it; latency is from the simulator\'s WebSocket send of the participant change to the ringing/started webhook received.',
      'The load average (1 min) is the mean over each measured window: the machine is shared, so CPU and latency are upper bounds for an idle machine.',
      process.env.PG_URL === undefined ? 'PostgreSQL: a cluster of the run\'s own on the same machine (Debian\'s initdb/pg_ctl, default settings but max_connections, fsync off), started for this figure and removed after it.' : 'PostgreSQL: the server at PG_URL.'
    ]
  }
}
