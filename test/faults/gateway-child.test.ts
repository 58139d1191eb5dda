// The gateway children of the fault tests (lib/gateway-child.ts) end with the test process that
// started them: a test killed (SIGKILL, a runner's time-out) left its gateway running as an orphan
// (ppid 1) with its streams, leases and database connections (tenant-faults.test.ts did).
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { TS_CHILD_ARGS } from '../ts-child.js'
import { pbxEnv, startSim } from '../pbx/pbx-fixture.js'

const PARENT = fileURLToPath(new URL('./lib/child-parent.ts', import.meta.url))

/** Whether the process runs (a zombie nobody reaps has ended). */
function running (pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

t.test('a gateway child exits when the test process that started it is killed', async (t) => {
  const sim = await startSim(t)
  const env = { ...process.env, ...pbxEnv(sim.url), GATEWAY_KEYS: 'orphan-test-key-0123456789abcdef', HOST: '127.0.0.1', PORT: '0', DATA_DIR: t.testdir({}), RECORDINGS_SOURCE: 'off', LOG_LEVEL: 'warn' }
  const parent = spawn(process.execPath, [...TS_CHILD_ARGS, PARENT], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const parentExited = new Promise<void>((resolve) => parent.once('exit', () => { resolve() }))
  let out = ''
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no gateway child within 60 s:\n${out.slice(-2000)}`)) }, 60_000)
    const take = (c: Buffer): void => {
      out += c.toString()
      const m = /^child (\d+)$/m.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(Number(m[1])) }
    }
    parent.stdout.on('data', take)
    parent.stderr.on('data', take)
  })
  // Whatever the outcome, nothing of this test outlives it.
  t.teardown(() => { for (const p of [parent.pid, pid]) if (p !== undefined && running(p)) process.kill(p, 'SIGKILL') })
  t.ok(running(pid), 'the gateway child runs')
  parent.kill('SIGKILL')
  await parentExited
  // It goes at once; 15 s for a loaded machine (a whole run with another beside it took over 5 s).
  const deadline = Date.now() + 15_000
  while (running(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(running(pid), 'the gateway child is gone within 15 s of its parent\'s SIGKILL')
})
