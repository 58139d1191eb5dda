// processAlive (src/process-alive.ts): a pid that exists is alive, also another user's (EPERM); a pid
// whose process has ended is not. Before, another user's process counted as gone (server.ts: a running
// demo's folder of another user was taken for a leftover).
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { transformSync } from 'esbuild'
import { processAlive, removeLeftByGone } from '../src/process-alive.js'

t.test('this process is alive; an ended child is not', async (t) => {
  t.ok(processAlive(process.pid))
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  t.notOk(processAlive(child.pid ?? 0), 'its pid after it exited')
})

t.test('another user\'s process (EPERM) is alive', async (t) => {
  if (process.getuid?.() !== 0) {
    // Not root: pid 1 is another user's, and signalling it is refused.
    t.ok(processAlive(1))
    return
  }
  // Root may signal anyone: the check runs as nobody (uid 65534), on pid 1 (root's).
  const code = transformSync(readFileSync(new URL('../src/process-alive.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm' }).code
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', `${code}\nconsole.log(JSON.stringify([processAlive(1), (() => { try { process.kill(1, 0); return 'sent' } catch (e) { return e.code } })()]))`], { uid: 65534, gid: 65534 })
  t.same(JSON.parse(stdout), [true, 'EPERM'], 'refused with EPERM, and taken as alive')
})

t.test('removeLeftByGone: the folders of gone processes go; this process\'s, a living one\'s and others stay', async (t) => {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  const gone = child.pid ?? 0
  const dir = t.testdir({ [`run-${gone}`]: { f: 'x' }, [`run-${process.pid}`]: {}, 'run-1': {}, 'run-x': {}, other: {} })
  await removeLeftByGone(dir, (name) => name.startsWith('run-') ? Number(/^run-(\d+)$/.exec(name)?.[1] ?? 0) : undefined)
  t.same(readdirSync(dir).sort(), ['other', 'run-1', `run-${process.pid}`].sort(), 'the gone one and the one of no known process (0) removed')
  await removeLeftByGone(path.join(dir, 'missing'), () => 0)
  t.pass('a folder that is not there: nothing to do')
})
