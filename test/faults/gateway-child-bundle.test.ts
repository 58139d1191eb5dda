// The fault scenarios' gateways start from this run's build of gateway-child.ts (made by tap's
// `before` script), and fall back to the TypeScript source when there is none.
import t from 'tap'
import { existsSync } from 'node:fs'
import { bundlePath, gatewayChildArgs } from './lib/gateway-child-bundle.js'
import { spawnUninstrumented, TS_CHILD_ARGS } from '../ts-child.js'

t.test('this run\'s build exists and is what the children run; a spare from it loads and exits with its parent', async (t) => {
  t.ok(existsSync(bundlePath()), `built by test/run-before.ts: ${bundlePath()}`)
  t.same(gatewayChildArgs(), [bundlePath()])
  const child = spawnUninstrumented(gatewayChildArgs(), { env: { ...process.env, FAULT_RIG_SPARE: '1' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  await new Promise<void>((resolve) => child.stdout?.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('loaded\n')) resolve() }))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.disconnect()
  t.equal(await exited, 1, 'the channel closed: it exits, as when its test process dies')
})

t.test('without this run\'s build, the source through the TypeScript loader', async (t) => {
  // Another run's name (not this run's file: fault scenarios may be starting gateways from it now).
  const args = gatewayChildArgs(bundlePath().replace(/[^/]+\.mjs$/, 'no-such-run.mjs'))
  t.same(args.slice(0, TS_CHILD_ARGS.length), TS_CHILD_ARGS)
  t.match(args.at(-1), /test\/faults\/lib\/gateway-child\.ts$/)
})
