import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { childrenCpuSeconds, startCpuMeter } from './file-cpu.js'

t.test('a line per file: path, own CPU, waited-for children CPU, wall seconds', async (t) => {
  const log = path.join(t.testdir(), 'cpu.log')
  const meter = startCpuMeter(log)
  const until = performance.now() + 150
  while (performance.now() < until) Math.sqrt(Math.random()) // own CPU
  // A child that burns CPU and is waited for: counted as the children's.
  spawnSync(process.execPath, ['-e', 'const e = Date.now() + 300; while (Date.now() < e) Math.sqrt(Math.random())'])
  const line = meter.stop('test/x.test.ts')
  t.equal(readFileSync(log, 'utf8'), `${line}\n`)
  const [file, own, children, wall] = (line ?? '').split('\t')
  t.equal(file, 'test/x.test.ts')
  t.ok(Number(own) >= 0.1, `own CPU ${own} s`)
  t.ok(process.platform !== 'linux' || Number(children) >= 0.2, `children CPU ${children} s`)
  t.ok(Number(wall) >= 0.45, `wall ${wall} s`)
})

t.test('nothing written without a log (TEST_CPU_LOG unset or empty)', async (t) => {
  t.equal(startCpuMeter('').stop('test/x.test.ts'), null)
})

t.test('children CPU is 0 where /proc is missing, and read past a command name with spaces', async (t) => {
  t.equal(childrenCpuSeconds('/nonexistent/stat'), 0)
  const dir = t.testdir({ stat: '42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 250 75 20 0\n' })
  t.equal(childrenCpuSeconds(path.join(dir, 'stat')), 3.25)
})
