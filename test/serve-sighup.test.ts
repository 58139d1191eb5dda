// `systemctl reload` / `kill -HUP` on a one-PBX gateway: Node's default action for SIGHUP is to exit,
// which took the service down. `3cx-gateway serve` in a child process of its own, against a simulator:
// SIGHUP logs one line and the gateway goes on answering; SIGTERM still stops it cleanly.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createSimulator } from '../src/sim/simulator.js'
import { PBX } from './sim/pbx-under-test.js'
import { TS_CHILD_ARGS } from './ts-child.js'
import { until } from './pbx/pbx-fixture.js'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const KEY = 'sighup-key-0123456789abcdef'

t.test('SIGHUP: a one-PBX gateway logs one line and keeps running', async (t) => {
  const sim = await createSimulator(PBX.simOptions)
  t.teardown(async () => { await sim.close() })
  const dir = t.testdir({})
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    PBX_URL: sim.url,
    PBX_CLIENT_ID: PBX.clientId,
    PBX_CLIENT_SECRET: PBX.secret,
    GATEWAY_KEYS: `${KEY}:read`,
    RECORDINGS_SOURCE: 'off',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    TENANTS_FILE: '',
    DATABASE_URL: ''
  }
  const child = spawn(process.execPath, [...TS_CHILD_ARGS, cli, 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (c: Buffer) => { log += c.toString() })
  child.stderr.on('data', (c: Buffer) => { log += c.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => { child.on('exit', (code, signal) => { resolve({ code, signal }) }) })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })

  await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(log) || child.exitCode !== null, 120_000, 'the gateway listening')
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1] ?? ''
  t.not(url, '', `started (log: ${log.slice(0, 300)})`)
  const calls = async (): Promise<number> => (await fetch(`${url}/pbx.calls.get`, { headers: { 'x-api-key': KEY } })).status
  t.equal(await calls(), 200)

  const hupLines = (): number => log.split('\n').filter((l) => l.includes('SIGHUP received')).length
  for (const n of [1, 2]) {
    child.kill('SIGHUP')
    await until(() => hupLines() === n || child.exitCode !== null || child.signalCode !== null, 10_000, `SIGHUP ${n} logged`)
    t.same([child.exitCode, child.signalCode], [null, null], `still running after SIGHUP ${n}`)
    t.equal(hupLines(), n, 'one line per SIGHUP')
    t.equal(await calls(), 200, 'and still answering')
  }
  t.match(log, /nothing was reloaded; still running/)

  child.kill('SIGTERM')
  t.same(await exited, { code: 0, signal: null }, 'SIGTERM still shuts down cleanly')
  t.match(log, /shutdown complete/)
})
