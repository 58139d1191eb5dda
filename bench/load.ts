// HTTP load with autocannon from the benchmark's own process (the servers run in children):
// requests per second of one URL, and an alternating comparison of a URL with its ceiling so that
// drifting background load on a shared machine hits both alike.
import autocannon from 'autocannon'
import { mean, median, round } from './stats.js'

export interface LoadTarget {
  url: string
  headers?: Record<string, string>
  method?: 'GET' | 'POST'
  body?: string
}

export interface LoadResult {
  rps: number
  /** CPU time the server process spent per request (µs), when a CPU probe was given. */
  serverCpuUsPerRequest?: number
  /** Share of one core the server process used during the run. */
  serverBusy?: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  non2xx: number
}

/** Reads a server process's CPU time in µs (BenchChild.call('cpuMicros')). */
export type CpuProbe = () => Promise<number>

export async function load (target: LoadTarget, opts: { connections: number, seconds: number }, cpu?: CpuProbe): Promise<LoadResult> {
  const cpuBefore = await cpu?.()
  const started = performance.now()
  const r = await autocannon({ ...target, connections: opts.connections, duration: opts.seconds })
  const wallUs = (performance.now() - started) * 1000
  const cpuUs = cpu === undefined || cpuBefore === undefined ? undefined : (await cpu()) - cpuBefore
  return {
    ...(cpuUs === undefined ? {} : { serverCpuUsPerRequest: round(cpuUs / Math.max(1, r.requests.total), 1), serverBusy: round(cpuUs / wallUs, 2) }),
    rps: round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx
  }
}

export interface Comparison {
  measured: LoadResult[]
  ceiling: LoadResult[]
  rps: number
  ceilingRps: number
  /** The median of each round's ratio (its measured run over the ceiling run just before it). */
  ratio: number
  /** Server CPU per request (µs), when probes were given. */
  cpuUsPerRequest: number | null
  ceilingCpuUsPerRequest: number | null
}

/** Warms both up, then runs ceiling and measured target alternately `rounds` times. */
export async function compareWithCeiling (
  measured: LoadTarget & { cpu?: CpuProbe },
  ceiling: LoadTarget & { cpu?: CpuProbe },
  opts: { connections: number, seconds: number, rounds: number }
): Promise<Comparison> {
  const { cpu: measuredCpu, ...measuredTarget } = measured
  const { cpu: ceilingCpu, ...ceilingTarget } = ceiling
  const warm = { connections: opts.connections, seconds: Math.min(2, opts.seconds) }
  await load(ceilingTarget, warm)
  await load(measuredTarget, warm)
  const runs = { measured: [] as LoadResult[], ceiling: [] as LoadResult[] }
  for (let i = 0; i < opts.rounds; i++) {
    runs.ceiling.push(await load(ceilingTarget, opts, ceilingCpu))
    runs.measured.push(await load(measuredTarget, opts, measuredCpu))
  }
  const rps = round(mean(runs.measured.map((r) => r.rps)))
  const ceilingRps = round(mean(runs.ceiling.map((r) => r.rps)))
  const cpuPerRequest = (rs: LoadResult[]): number | null => rs[0]?.serverCpuUsPerRequest === undefined ? null : round(mean(rs.map((r) => r.serverCpuUsPerRequest ?? 0)), 1)
  // Each round's two runs are seconds apart, so they share the machine's speed of the moment (a VM's
  // speed drifts by up to a third over tens of seconds: 2026-12-07, the same figure read 0.69-0.81 as
  // a ratio of two 10 s means); the median of the rounds' ratios is the figure.
  const ratio = median(runs.measured.map((r, i) => r.rps / runs.ceiling[i].rps))
  return { ...runs, rps, ceilingRps, ratio: round(ratio, 3), cpuUsPerRequest: cpuPerRequest(runs.measured), ceilingCpuUsPerRequest: cpuPerRequest(runs.ceiling) }
}
