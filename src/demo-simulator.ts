// Demo mode's PBX: the built-in 3CX V20 simulator, in-process. `serve` runs it with a few simulated
// calls a minute (on SIM_PORT, default any free port); `doctor` and `export` run it with a week of
// call history, so a newcomer can try them before a real PBX is configured.
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config.js'
import { assertPortFree } from './port-probe.js'
import type { Simulator } from './sim/simulator.js'

export interface DemoSimulator {
  simulator: Simulator
  /** Stops the simulated traffic and the simulator. */
  stop: () => Promise<void>
}

export interface DemoSimulatorOptions {
  /** 0 = any free port. */
  port: number
  logger: FastifyBaseLogger | false
  /** Simulated calls a minute (serve's DEMO_TRAFFIC); 0 = none. */
  trafficPerMinute?: number
  /** Days of past calls for the reports (doctor, export); 0 = none. */
  historyDays?: number
  /**
   * The gateway's API client settings: with SIM_PBX (a described PBX) they are pointed at the
   * definition's first API client unless one of its clients matches them.
   */
  pbxClient?: { clientId: string, clientSecret: string }
}

/** How often a past call starts in the demo history: every 20 minutes, day and night. */
const HISTORY_SPACING_MS = 20 * 60_000

export async function startDemoSimulator (opts: DemoSimulatorOptions): Promise<DemoSimulator> {
  await assertPortFree('127.0.0.1', opts.port, 'SIM_PORT')
  const { createSimulator } = await import('./sim/simulator.js')
  const { simulatorFileOptions } = await import('./sim/pbx-definition.js')
  const files = simulatorFileOptions({}, process.env, opts.pbxClient)
  const simulator = await createSimulator({ port: opts.port, host: '127.0.0.1', logger: opts.logger, ...files })
  if ((opts.historyDays ?? 0) > 0) await addHistory(simulator, opts.historyDays ?? 0)
  const stopTraffic = await startTraffic(simulator, opts.trafficPerMinute ?? 0)
  return {
    simulator,
    stop: async () => {
      stopTraffic()
      await simulator.close()
    }
  }
}

/** Runs `run` with the configuration pointed at a fresh demo simulator (doctor, export in demo mode). */
export async function withDemoPbx<T> (config: Config, say: (line: string) => void, run: (config: Config) => Promise<T>): Promise<T> {
  const historyDays = 7
  const pbx = { ...config.pbx }
  const demo = await startDemoSimulator({ port: 0, logger: false, historyDays, pbxClient: pbx })
  say(`demo mode (PBX_URL is not set): using the built-in 3CX V20 simulator at ${demo.simulator.url} with ${historyDays} days of simulated calls; ` +
    'set PBX_URL, PBX_CLIENT_ID and PBX_CLIENT_SECRET (or .env) for your PBX')
  try {
    return await run({ ...config, pbx: { ...pbx, url: demo.simulator.url } })
  } finally {
    await demo.stop()
  }
}

async function addHistory (sim: Simulator, days: number): Promise<void> {
  const { syntheticCallRecords } = await import('./sim/xapi/synthetic-records.js')
  const { injectCallRecords } = await import('./sim/xapi/record-source.js')
  const from = new Date(Math.floor((Date.now() - days * 86_400_000) / HISTORY_SPACING_MS) * HISTORY_SPACING_MS)
  const count = Math.floor(days * 86_400_000 / HISTORY_SPACING_MS)
  injectCallRecords(sim.ctx, syntheticCallRecords(count, { from, spacingMs: HISTORY_SPACING_MS }))
}

/** A few simulated calls a minute so a newcomer sees live data (DEMO_TRAFFIC; 0 = none). */
async function startTraffic (sim: Simulator, perMinute: number): Promise<() => void> {
  if (perMinute <= 0) return () => {}
  const { TrafficGenerator } = await import('./sim/traffic.js')
  const traffic = new TrafficGenerator(sim.ctx.engine, () => sim.ctx.directory, Date.now() % 100_000)
  const day = 86_400
  const run = (): void => { traffic.start({ callsPerSecond: perMinute / 60, seconds: day, maxRingMs: 8000, maxTalkMs: 45_000, recordShare: 0.3, firstCallAtOnce: true }) }
  run()
  const renew = setInterval(run, day * 1000)
  renew.unref()
  return () => {
    clearInterval(renew)
    traffic.stop()
  }
}

/**
 * The complete command that starts a gateway connected to a standalone simulator at `simUrl`
 * (`sim` prints it): a wildcard listen address is reached on loopback, a fresh key satisfies
 * GATEWAY_KEYS, and PORT moves aside when the simulator took the gateway's default 8080.
 */
export function gatewayCommand (simUrl: string, client: { clientId: string, secret: string }, key: string): string {
  const url = new URL(simUrl)
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1'
  const port = url.port === '8080' ? ' PORT=8081' : ''
  return `PBX_URL=${url.origin} PBX_CLIENT_ID=${client.clientId} PBX_CLIENT_SECRET=${client.secret} GATEWAY_KEYS=${key}:control${port} npm start`
}

/** Three copy-paste examples for a newcomer in demo mode (key `demo`). */
export function demoExamples (base: string, key = 'demo'): string[] {
  return [
    `curl ${base}/webapi/${key}/pbx.calls.get`,
    `curl ${base}/webapi/${key}/pbx.ac.get`,
    `curl -H 'X-API-Key: ${key}' '${base}/ext.state.get?num=101'`
  ]
}
