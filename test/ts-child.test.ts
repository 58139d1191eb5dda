// withoutCoverage (test/ts-child.ts): the fault scenarios' gateways really run without tap's coverage.
// tap loads @tapjs/processinfo into every Node child, and it turns V8's block coverage on unless
// _TAPJS_PROCESSINFO_COVERAGE_ is '0' (removing NODE_V8_COVERAGE alone, as before, changed nothing:
// tap does not use it).
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { withoutCoverage } from './ts-child.js'

const run = promisify(execFile)

t.test('the env switches processinfo\'s coverage off and V8\'s own too', async (t) => {
  t.same(withoutCoverage({ A: '1', NODE_V8_COVERAGE: '/tmp/c' }), { A: '1', _TAPJS_PROCESSINFO_COVERAGE_: '0' })
  t.same(withoutCoverage({ _TAPJS_PROCESSINFO_COVERAGE_: '1' }), { _TAPJS_PROCESSINFO_COVERAGE_: '0' })
})

t.test('a child started with it records no coverage; one started with the test\'s env does when the test does', async (t) => {
  // processinfo's register() sets _TAPJS_PROCESSINFO_COVERAGE_ to '1' in a process it covers.
  const probe = ['-e', 'console.log(process.env._TAPJS_PROCESSINFO_COVERAGE_ ?? "unset")']
  const seen = async (env: NodeJS.ProcessEnv): Promise<string> => (await run(process.execPath, probe, { env })).stdout.trim()
  const covered = process.env._TAPJS_PROCESSINFO_COVERAGE_ === '1'
  t.equal(await seen(process.env), covered ? '1' : process.env._TAPJS_PROCESSINFO_COVERAGE_ ?? 'unset', covered ? 'covered like this process (what the fault scenarios paid for)' : 'as this process (coverage off in this run)')
  t.equal(await seen(withoutCoverage(process.env)), '0', 'not covered')
})
