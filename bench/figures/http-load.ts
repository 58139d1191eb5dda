// Shared by the autocannon figures: how long they run (per round, rounds per side, connections)
// and what the CPU probes say.
import type { BenchOptions } from '../figure.js'
import type { Comparison } from '../load.js'
import { round } from '../stats.js'

/**
 * Full: ten rounds of 2 s a side (was two of 10 s): as long in all, and each round's pair of runs
 * shares the machine's speed of the moment (the figure is the median of the rounds' ratios, bench/load.ts).
 */
export function loadSettings (opts: BenchOptions): { connections: number, seconds: number, rounds: number } {
  const settings = opts.quick ? { connections: 50, seconds: 4, rounds: 1 } : { connections: 50, seconds: 2, rounds: 10 }
  // More rounds narrow a ratio on a noisy machine (each process's rate moves by a third from run to run).
  return opts.rounds === undefined ? settings : { ...settings, rounds: opts.rounds }
}

/** `lo–hi` of the runs' server CPU per request (µs). */
function cpuRange (runs: Comparison['measured']): string {
  const us = runs.map((r) => r.serverCpuUsPerRequest ?? 0)
  return `${Math.min(...us)}–${Math.max(...us)}`
}

/**
 * Where the gateway's time goes, in words, from the CPU probes of a comparison, and how much the same
 * process's CPU per request moved from run to run: on a shared VM it has doubled within a minute with
 * no CPU steal (2026-12-08), more than any difference between the two servers, so one comparison's
 * ratio is only as good as that spread.
 */
export function cpuNote (cmp: Comparison): string[] {
  if (cmp.cpuUsPerRequest === null || cmp.ceilingCpuUsPerRequest === null) return []
  const busy = Math.max(...cmp.measured.map((r) => r.serverBusy ?? 0))
  const best = Math.max(...cmp.measured.map((r) => r.rps)) / Math.max(...cmp.ceiling.map((r) => r.rps))
  return [`The gateway process spent ${cmp.cpuUsPerRequest} µs of CPU per request, the bare server ${cmp.ceilingCpuUsPerRequest} µs (means of the runs); the gateway used ${Math.round(busy * 100)}% of a core during its runs${busy < 0.85 ? ' (below 85%: the load generator, on the same 2 cores, was also a limit)' : ''}. From run to run the same process spent ${cpuRange(cmp.measured)} µs (gateway) and ${cpuRange(cmp.ceiling)} µs (bare) per request; the ratio of the mean rates is ${round(cmp.rps / cmp.ceilingRps, 3)}, of the best runs ${round(best, 3)}.`]
}
