// Shared by the autocannon figures: how long they run (per round, rounds per side, connections)
// and what the CPU probes say.
import type { BenchOptions } from '../figure.js'
import type { Comparison } from '../load.js'

/**
 * Full: ten rounds of 2 s a side (was two of 10 s): as long in all, and each round's pair of runs
 * shares the machine's speed of the moment (the figure is the median of the rounds' ratios, bench/load.ts).
 */
export function loadSettings (opts: BenchOptions): { connections: number, seconds: number, rounds: number } {
  return opts.quick ? { connections: 50, seconds: 4, rounds: 1 } : { connections: 50, seconds: 2, rounds: 10 }
}

/** Where the gateway's time goes, in words, from the CPU probes of a comparison. */
export function cpuNote (cmp: Comparison): string[] {
  if (cmp.cpuUsPerRequest === null || cmp.ceilingCpuUsPerRequest === null) return []
  const busy = Math.max(...cmp.measured.map((r) => r.serverBusy ?? 0))
  return [`The gateway process spent ${cmp.cpuUsPerRequest} µs of CPU per request, the bare server ${cmp.ceilingCpuUsPerRequest} µs; the gateway used ${Math.round(busy * 100)}% of a core during its runs${busy < 0.85 ? ' (below 85%: the load generator, on the same 2 cores, was also a limit)' : ''}.`]
}
