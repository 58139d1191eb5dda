// Gateway replicas for the PostgreSQL figures: a simulator, a webhook receiver and `count` gateway
// processes on one database (DATABASE_URL), wired as a deployment of replicas is: one holds the
// PBX's event stream, the others are standbys that deliver from the shared outbox and answer the
// live methods from the holder's published view.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { benchTmp } from './paths.js'
import { startChild, type BenchChild } from './processes.js'
import type { SimInfo } from './child/sim-scripts.js'
import type { GatewayInfo } from './child/gateway-process.js'
import type { ReceiverInfo } from './child/receiver-process.js'
import { BENCH_KEY, KEY_HEADER } from './stack.js'
import type { StreamStatus } from '../src/replicas/stream-lease.js'

export interface ReplicaStats { calls: number, delivery: Array<{ delivered: number }>, stream: StreamStatus }

export interface Replica {
  name: string
  child: BenchChild<GatewayInfo>
  stats: () => Promise<ReplicaStats>
  /** Calls in progress as this replica answers pbx.ac.get (a standby: from the holder's view). */
  callsServed: () => Promise<number>
  /** Holds the stream with its WebSocket up (as /readyz says). */
  holds: () => Promise<boolean>
}

export interface ReplicaSet {
  sim: BenchChild<SimInfo>
  receiver: BenchChild<ReceiverInfo>
  replicas: Replica[]
  /** POSTs /_sim/traffic (random calls of every path). */
  traffic: (callsPerSecond: number, seconds: number, maxTalkMs: number) => Promise<void>
  /** The replica holding the stream (polls until one does). */
  holder: (timeoutMs: number) => Promise<Replica>
  stop: () => Promise<void>
}

/** `receiverDelayMs`: the webhook receiver answers each event that long after reading it (a slow CRM). */
export async function startReplicas (name: string, count: number, databaseUrl: string, receiverDelayMs = 0): Promise<ReplicaSet> {
  mkdirSync(benchTmp, { recursive: true })
  const dataDir = mkdtempSync(path.join(benchTmp, `${name}-data-`))
  const sim = await startChild<SimInfo>('sim-process', `${name}-sim`)
  const receiver = await startChild<ReceiverInfo>('receiver-process', `${name}-receiver`, { env: { BENCH_RECEIVER_ARRIVALS: '1', BENCH_RECEIVER_DELAY_MS: String(receiverDelayMs) } })
  const replicas: Replica[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(replicas.map(async (r) => { await r.child.stop() }))
    await receiver.stop()
    await sim.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    // One after another: the first takes the stream, the others find it held.
    for (let i = 1; i <= count; i++) {
      const child = await startChild<GatewayInfo>('gateway-process', `${name}-r${i}`, {
        env: {
          PBX_URL: sim.info.url, PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'sim-secret', GATEWAY_KEYS: `${BENCH_KEY}:control`,
          HOST: '127.0.0.1', PORT: '0', DATA_DIR: path.join(dataDir, `r${i}`), DATABASE_URL: databaseUrl, WEBHOOK_URLS: receiver.info.url,
          RATE_LIMIT_PER_MINUTE: '10000000', RECORDINGS_SOURCE: 'off', LOG_LEVEL: 'warn'
        }
      })
      replicas.push(replicaOf(`r${i}`, child))
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    sim,
    receiver,
    replicas,
    async traffic (callsPerSecond, seconds, maxTalkMs) {
      const res = await fetch(`${sim.info.url}/_sim/traffic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ callsPerSecond, seconds, seed: 9, maxRingMs: 1500, maxTalkMs, recordShare: 0 })
      })
      if (res.status !== 202) throw new Error(`/_sim/traffic answered ${res.status}`)
    },
    async holder (timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        for (const r of replicas) if (await r.holds()) return r
        if (Date.now() > deadline) throw new Error(`no replica held the stream within ${timeoutMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    stop
  }
}

function replicaOf (name: string, child: BenchChild<GatewayInfo>): Replica {
  const url = child.info.url
  return {
    name,
    child,
    stats: async () => await child.call<ReplicaStats>('stats'),
    callsServed: async () => ((await (await fetch(`${url}/pbx.ac.get`, { headers: KEY_HEADER })).json()) as { count?: number }).count ?? NaN,
    holds: async () => {
      try {
        const z = await (await fetch(`${url}/readyz`)).json() as { stream?: { role?: string }, checks?: Record<string, { ok?: boolean }> }
        return z.stream?.role === 'holder' && z.checks?.websocket?.ok === true
      } catch {
        return false
      }
    }
  }
}
