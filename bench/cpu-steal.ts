// CPU time the hypervisor gave to other guests while a figure ran (`steal` in /proc/stat). On a shared
// VM it comes and goes: 28–41 % of this machine's CPU time under load on 2026-12-08, ~1 % at other
// times. A figure measured while it is high is lower and noisier (a ratio of two alternating runs
// included), so the results say how much there was. Linux only; null elsewhere.
import { readFileSync } from 'node:fs'

export interface CpuTimes {
  /** Jiffies stolen from this machine's CPUs since boot. */
  steal: number
  /** All jiffies since boot: user, nice, system, idle, iowait, irq, softirq, steal. */
  total: number
}

/** The aggregate `cpu` line of /proc/stat (its text may be given), or null when there is none. */
export function readCpuTimes (text?: string): CpuTimes | null {
  let stat = text
  if (stat === undefined) {
    try {
      stat = readFileSync('/proc/stat', 'utf8')
    } catch {
      return null
    }
  }
  const line = stat.split('\n').find((l) => l.startsWith('cpu '))
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number)
  if (fields === undefined || fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null
  return { steal: fields[7], total: fields.reduce((a, b) => a + b, 0) }
}

/** The share (0–1, two decimals) of the CPU time between two readings that was stolen; null without both. */
export function stealShare (before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (before === null || after === null || after.total <= before.total) return null
  return Math.round((after.steal - before.steal) / (after.total - before.total) * 100) / 100
}
