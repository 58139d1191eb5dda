// stopReplicas() ends: a replica whose shutdown hangs is killed after a while instead of being waited
// for, so a failed run's teardown ends within seconds (tenant-faults.test.ts waited for such a replica
// until the file's time-out, and the replica outlived the test).
import t from 'tap'
import { spawn } from 'node:child_process'
import { stopReplicas, type Replica } from './replica-harness.js'

t.test('a replica that does not exit on SIGTERM is killed, and stopReplicas() returns', async (t) => {
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  await new Promise((resolve) => child.stdout.once('data', resolve))
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  const stuck: Replica = { name: 'stuck', child, url: '', exited, output: () => 'shutting down', alive: () => child.exitCode === null && child.signalCode === null, catchUps: () => [] }
  const began = Date.now()
  await stopReplicas([stuck], 500)
  t.ok(Date.now() - began < 5000, `returned after ${Date.now() - began} ms`)
  t.equal(child.signalCode, 'SIGKILL', 'killed')
})
