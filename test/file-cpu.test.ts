import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { childrenCpuSeconds, startCpuMeter } from './file-cpu.js'

t.test('a line per file: path, own CPU, waited-for children CPU, wall seconds', async (t) => {
  const log = path.join(t.testdir(), 'cpu.log')
  const meter = startCpuMeter(log)
  // Own CPU, counted by CPU time, not by the clock: at the bulk priority on a busy machine 150 ms of
  // wall time gave 0.06 s of CPU (a test must not judge its own speed).
  const busy = process.cpuUsage()
  while (process.cpuUsage(busy).user < 150_000) Math.sqrt(Math.random())
  // A child that burns CPU and is waited for: counted as the children's.
  spawnSync(process.execPath, ['-e', 'const c = process.cpuUsage(); while (process.cpuUsage(c).user < 300_000) Math.sqrt(Math.random())'])
  const line = meter.stop('test/x.test.ts')
  t.equal(readFileSync(log, 'utf8'), `${line}\n`)
  const [file, own, children, wall] = (line ?? '').split('\t')
  t.equal(file, 'test/x.test.ts')
  t.ok(Number(own) >= 0.1, `own CPU ${own} s`)
  t.ok(process.platform !== 'linux' || Number(children) >= 0.2, `children CPU ${children} s`)
  t.ok(Number(wall) >= 0.4, `wall ${wall} s`)
})

t.test('nothing written without a log (TEST_CPU_LOG unset or empty)', async (t) => {
  t.equal(startCpuMeter('').stop('test/x.test.ts'), null)
})

t.test('children CPU is 0 where /proc is missing, and read past a command name with spaces', async (t) => {
  t.equal(childrenCpuSeconds('/nonexistent/stat'), 0)
  const dir = t.testdir({ stat: '42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 250 75 20 0\n' })
  t.equal(childrenCpuSeconds(path.join(dir, 'stat')), 3.25)
})
