// The fault scenarios' gateways run without tap's instrumentation (test/ts-child.ts). tap loads
// @tapjs/processinfo into every Node child through NODE_OPTIONS (its spawn wrapper adds it whatever
// the env says), and it turns V8's block coverage on unless _TAPJS_PROCESSINFO_COVERAGE_ is '0'
// (removing NODE_V8_COVERAGE alone, as before, changed nothing: tap does not use it).
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { spawnUninstrumented, withoutCoverage, withoutProcessinfo } from './ts-child.js'

const run = promisify(execFile)
const PI = 'file:///p/node_modules/@tapjs/processinfo/dist/esm/import.mjs'

t.test('the env switches processinfo\'s coverage off and V8\'s own too', async (t) => {
  t.same(withoutCoverage({ A: '1', NODE_V8_COVERAGE: '/tmp/c' }), { A: '1', _TAPJS_PROCESSINFO_COVERAGE_: '0' })
  t.same(withoutCoverage({ _TAPJS_PROCESSINFO_COVERAGE_: '1' }), { _TAPJS_PROCESSINFO_COVERAGE_: '0' })
})

t.test('NODE_OPTIONS loses only tap\'s processinfo import', async (t) => {
  t.equal(withoutProcessinfo(`"--import=${PI}"`), '')
  t.equal(withoutProcessinfo(`--max-old-space-size=512 --import=${PI} --enable-source-maps`), '--max-old-space-size=512 --enable-source-maps')
  t.equal(withoutProcessinfo(`--import ${PI}`), '', 'the spaced form too')
  t.equal(withoutProcessinfo('--import=./my-hook.mjs'), '--import=./my-hook.mjs', 'another import stays')
  t.equal(withoutProcessinfo(undefined), '')
})

// processinfo's register() sets _TAPJS_PROCESSINFO_COVERAGE_ to '1' in a process it covers.
const PROBE = 'process.send?.("ipc"); console.log(JSON.stringify({ pid: process.pid, cov: process.env._TAPJS_PROCESSINFO_COVERAGE_ ?? "unset", options: process.env.NODE_OPTIONS ?? "" }))'

t.test('a child started with the test\'s env is instrumented as the test is', async (t) => {
  const seen = JSON.parse((await run(process.execPath, ['-e', PROBE], { env: process.env })).stdout) as { cov: string, options: string }
  if (process.env._TAPJS_PROCESSINFO_COVERAGE_ === '1') t.equal(seen.cov, '1', 'covered (what the fault scenarios paid for)')
  t.match(seen.options, /@tapjs[\\/]processinfo/, 'processinfo loaded')
})

t.test('spawnUninstrumented: no processinfo, no coverage; the same pid, and its IPC channel works', async (t) => {
  const child = spawnUninstrumented(['-e', PROBE], { env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=300` }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  const message = new Promise((resolve) => child.once('message', resolve))
  const code = await new Promise((resolve) => child.once('exit', resolve))
  t.equal(code, 0)
  t.equal(await message, 'ipc')
  const seen = JSON.parse(out) as { pid: number, cov: string, options: string }
  t.equal(seen.pid, child.pid, 'Node runs in the process the test holds (env execs it)')
  t.equal(seen.cov, '0')
  t.notMatch(seen.options, /processinfo/)
  t.match(seen.options, '--max-old-space-size=300', 'other NODE_OPTIONS stay')
})
