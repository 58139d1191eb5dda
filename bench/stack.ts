// A simulator and a gateway, each in its own process, wired like a real deployment: the gateway's
// environment points it at the simulator (PBX_URL, client 599), with a benchmark API key, no
// per-key rate limit to speak of, recordings off and request logging off (LOG_LEVEL=warn).
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { benchTmp } from './paths.js'
import { startChild, type BenchChild } from './processes.js'
import type { SimInfo } from './child/sim-scripts.js'
import type { GatewayInfo } from './child/gateway-process.js'
import { waitFor } from './stats.js'

/** 32 characters, control scope. */
export const BENCH_KEY = 'bench-key-0123456789abcdef012345'
export const KEY_HEADER = { 'x-api-key': BENCH_KEY }

export interface Stack {
  sim: BenchChild<SimInfo>
  gateway: BenchChild<GatewayInfo>
  /** Calls in progress as the gateway sees them. */
  calls: () => Promise<number>
  /** Starts `count` long calls at the simulator and waits until the gateway tracks them. */
  startLongCalls: (count: number, talkMs?: number) => Promise<void>
  stop: () => Promise<void>
}

export interface StackOptions {
  name: string
  /** Extra gateway environment (WEBHOOK_URLS, …). */
  env?: Record<string, string>
}

/** Set by `npm run bench -- --cpu-prof`: every gateway and ceiling process writes a V8 CPU profile here when it exits. */
let cpuProfileDir: string | null = null

/** Profile the gateway processes started from now on (`<dir>/<figure>-gateway.cpuprofile`). */
export function profileGateways (dir: string): void {
  mkdirSync(dir, { recursive: true })
  cpuProfileDir = dir
}

/** Node flags for a child named `name` (`<figure>-gateway`, `<figure>-bare`): a CPU profile when profiling is on. */
export function profiledArgs (name: string): string[] {
  return cpuProfileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
}

export async function startStack (opts: StackOptions): Promise<Stack> {
  mkdirSync(benchTmp, { recursive: true })
  const dataDir = mkdtempSync(path.join(benchTmp, `${opts.name}-data-`))
  const sim = await startChild<SimInfo>('sim-process', `${opts.name}-sim`)
  let gateway: BenchChild<GatewayInfo>
  try {
    gateway = await startChild<GatewayInfo>('gateway-process', `${opts.name}-gateway`, {
      execArgv: ['--expose-gc', ...profiledArgs(`${opts.name}-gateway`)],
      env: {
        PBX_URL: sim.info.url,
        PBX_CLIENT_ID: '599',
        PBX_CLIENT_SECRET: 'sim-secret',
        GATEWAY_KEYS: `${BENCH_KEY}:control`,
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: dataDir,
        RATE_LIMIT_PER_MINUTE: '10000000',
        RECORDINGS_SOURCE: 'off',
        LOG_LEVEL: 'warn',
        ...opts.env
      }
    })
  } catch (err) {
    await sim.stop()
    throw err
  }
  const calls = async (): Promise<number> => (await gateway.call<{ calls: number }>('stats')).calls
  return {
    sim,
    gateway,
    calls,
    async startLongCalls (count, talkMs = 3_600_000) {
      const before = await calls()
      await sim.call('startCalls', { count, talkMs })
      await waitFor(`the gateway to track ${count} new calls`, async () => (await calls()) >= before + count, 60_000, 200)
    },
    async stop () {
      await gateway.stop()
      await sim.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
