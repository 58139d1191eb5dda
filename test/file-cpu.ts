// What each test file costs in CPU, for finding where a whole run's time goes: with TEST_CPU_LOG=<file>,
// a worker (test/batch-runner.ts) appends one line per file it ran: path, the worker's own CPU seconds
// during the file, the CPU seconds of the child processes the file started and waited for (Linux
// /proc/self/stat cutime + cstime), and wall seconds, tab-separated. Wall time says little on a busy
// machine (a file waits for the cores the others hold); CPU is what a faster suite must save.
import { appendFileSync, readFileSync } from 'node:fs'

/** Seconds of CPU of this process's waited-for children so far (0 where /proc is missing). */
export function childrenCpuSeconds (stat = '/proc/self/stat'): number {
  try {
    // The fields after the command name (which may hold spaces and parentheses): cutime and cstime are the 14th and 15th.
    const text = readFileSync(stat, 'utf8')
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ')
    return (Number(fields[13]) + Number(fields[14])) / 100
  } catch {
    return 0
  }
}

/** A meter started now; `stop(file)` appends its line to `log` (nothing when `log` is undefined). */
export function startCpuMeter (log = process.env.TEST_CPU_LOG): { stop: (file: string) => string | null } {
  const own = process.cpuUsage()
  const children = childrenCpuSeconds()
  const wall = performance.now()
  return {
    stop: (file) => {
      if (log === undefined || log === '') return null
      const used = process.cpuUsage(own)
      const line = [file, ((used.user + used.system) / 1e6).toFixed(2), (childrenCpuSeconds() - children).toFixed(2), ((performance.now() - wall) / 1000).toFixed(2)].join('\t')
      appendFileSync(log, `${line}\n`)
      return line
    }
  }
}
