// The whole gateway as a newcomer starts it: demo mode (in-process simulator), real HTTP, a scripted
// call producing webhooks at a local receiver, health, metrics, and a graceful shutdown.
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../src/config.js'
import { startGateway } from '../src/server.js'
import { startReceiver } from './webhooks/receiver.js'
import { pbxEnv, startSim } from './pbx/pbx-fixture.js'

function logSink (): { stream: Writable, text: () => string } {
  const chunks: string[] = []
  return { stream: new Writable({ write (c, _e, cb) { chunks.push(String(c)); cb() } }), text: () => chunks.join('') }
}

t.test('demo mode: simulator, legacy API, webhooks, health, metrics, shutdown', async (t) => {
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dataDir = t.testdir({})
  const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, DEMO_TRAFFIC: '0', WEBHOOK_URLS: receiver.url, CALL_END_GRACE_MS: '200', RECORDINGS_SOURCE: 'off' })
  const logs = logSink()
  const gw = await startGateway(config, { logStream: logs.stream, pbx: { reconnect: { baseMs: 50, maxMs: 200 } } })
  let closed = false
  t.teardown(async () => { if (!closed) await gw.close() })
  await gw.services.pbx.callControl.ready()

  t.ok(gw.simulator, 'the simulator runs in-process')
  t.match(gw.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'listens on loopback only')
  t.match(logs.text(), /DEMO MODE/, 'the first log lines say demo mode')
  t.match(logs.text(), gw.simulator?.url ?? 'missing', 'and give the simulator URL')
  t.match(logs.text(), /try: curl .*\/webapi\/demo\/pbx\.calls\.get/, 'and curl examples')

  const health = await (await fetch(`${gw.url}/healthz`)).json() as Record<string, unknown>
  t.equal(health.mode, 'demo')
  t.equal(health.simulator, gw.simulator?.url)
  t.equal((health.examples as string[]).length, 3)
  for (const example of health.examples as string[]) {
    const m = /curl (?:-H '([^:]+): ([^']+)' )?'?([^' ]+)'?$/.exec(example)
    t.ok(m, `example is a curl line: ${example}`)
    if (m === null) continue
    const res = await fetch(m[3], { headers: m[1] !== undefined ? { [m[1]]: m[2] } : {} })
    t.equal(res.status, 200, `the printed example answers: ${example}`)
  }

  const wrongMethod = await fetch(`${gw.url}/pbx.calls.get`, { method: 'POST', headers: { 'x-api-key': 'demo' } })
  t.equal(wrongMethod.status, 405, 'POST on a GET method: 405, not 404')
  t.equal(wrongMethod.headers.get('allow'), 'GET, HEAD')

  const ready = await fetch(`${gw.url}/readyz`)
  t.equal(ready.status, 200)
  t.match(await ready.json(), { ready: true, checks: { pbx: { ok: true }, token: { ok: true }, websocket: { ok: true }, outbox: { ok: true } } })

  // One inbound call through the queue, answered by 101 (sequence A without recording). It rings 1.5 s:
  // a ringing leg shorter than the gateway's participant fetch on a loaded machine can go unseen.
  const res = await fetch(`${gw.simulator?.url ?? ''}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to: '+15550101', answer: '101', ringMs: 1500, talkMs: 600, hangup: 'caller' })
  })
  t.equal(res.status, 201)
  await receiver.waitFor(6, 10_000)
  const events = receiver.received.map((r) => JSON.parse(r.body) as Record<string, unknown>)
  t.same(events.map((e) => `${String(e.event)}:${String(e.user)}`).slice(0, 1), ['ringing:800'])
  t.ok(events.some((e) => e.event === 'hangupincoming' && e.user === '101' && e.did === 'Sales line'), 'call started by 101 on Sales line')
  t.ok(events.some((e) => e.event === 'incoming' && e.user === '101' && e.finishtype === 'Ok'), 'call ended')

  const metrics = await (await fetch(`${gw.url}/metrics`)).text()
  t.match(metrics, /gateway_requests_total\{method="pbx\.calls\.get",status="200"\} 1/)
  t.match(metrics, /gateway_calls_in_progress 0/)
  t.match(metrics, /gateway_call_ends_owed 0/)
  t.match(metrics, /gateway_webhook_attempts_total\{target="webhook1",outcome="delivered"\} [1-9]/)
  t.match(metrics, /gateway_pbx_request_duration_seconds_bucket/)
  t.notMatch(metrics, /demo/, 'no key in any metric')

  closed = true
  await gw.close()
  t.match(logs.text(), /shutdown complete/)
  t.notMatch(logs.text().replace(/"msg":"[^"]*"/g, ''), /\/webapi\/demo\//, 'no key in logged URLs')
})

t.test('SIM_PORT fixes the demo simulator\'s port; a taken one is named before anything starts', async (t) => {
  const { createServer } = await import('node:net')
  const { ListenError } = await import('../src/port-probe.js')
  const holder = createServer()
  await new Promise<void>((resolve) => { holder.listen(0, '127.0.0.1', resolve) })
  const address = holder.address()
  const taken = typeof address === 'object' && address !== null ? address.port : 0
  t.teardown(() => { holder.close() })
  const dataDir = t.testdir({})
  const base = { PORT: '0', DATA_DIR: dataDir, DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off' }
  await t.rejects(startGateway(loadConfig({ ...base, SIM_PORT: String(taken) }), { logStream: logSink().stream }),
    new ListenError(`port ${taken} on 127.0.0.1 is already in use (another gateway or simulator still running?); stop that program or set SIM_PORT to a free port`))

  holder.close()
  await new Promise((resolve) => { holder.once('close', resolve) })
  const gw = await startGateway(loadConfig({ ...base, SIM_PORT: String(taken) }), { logStream: logSink().stream })
  t.teardown(() => gw.close())
  t.equal(gw.simulator?.url, `http://127.0.0.1:${taken}`, 'the simulator listens on SIM_PORT')
})

t.test('a fresh data directory starts without warnings; demo mode on all interfaces says so and warns', async (t) => {
  const dataDir = `${t.testdir({})}/new/data`
  const logs = logSink()
  const gw = await startGateway(loadConfig({ PORT: '0', HOST: '0.0.0.0', DATA_DIR: dataDir, DEMO_TRAFFIC: '0', LOG_FORMAT: 'json' }), { logStream: logs.stream })
  t.teardown(() => gw.close())
  const lines = logs.text().trim().split('\n').map((l) => JSON.parse(l) as { level: number, msg: string })
  t.notMatch(logs.text(), /loopback only/, 'not "loopback only" when it is not')
  t.match(logs.text(), /DEMO MODE .* listening on http:\/\/127\.0\.0\.1:\d+ \(HOST=0\.0\.0\.0\)/)
  const warnings = lines.filter((l) => l.level >= 40).map((l) => l.msg)
  t.same(warnings, ['demo mode listens on 0.0.0.0, not only on loopback: anyone who can reach this machine can use the well-known API key "demo" and place calls in the simulator; set HOST=127.0.0.1, or connect a PBX with GATEWAY_KEYS of your own'],
    'the only warning is the demo key one (none about the fresh data or MP3 folder)')
})

t.test('LOG_FORMAT=pretty: readable lines', async (t) => {
  const logs = logSink()
  const gw = await startGateway(loadConfig({ PORT: '0', DATA_DIR: t.testdir({}), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off', LOG_FORMAT: 'pretty' }), { logStream: logs.stream })
  await gw.close()
  t.match(logs.text(), /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: /m)
  t.match(logs.text(), /INFO: shutdown complete/)
  t.notMatch(logs.text(), /^\{"level"/m)
})

t.test('a DATA_DIR that is a file is named, and the demo simulator started before it is stopped', async (t) => {
  const { createServer } = await import('node:net')
  const probe = createServer()
  await new Promise<void>((resolve) => { probe.listen(0, '127.0.0.1', resolve) })
  const address = probe.address()
  const simPort = typeof address === 'object' && address !== null ? address.port : 0
  await new Promise((resolve) => { probe.close(resolve) })
  const dataDir = `${t.testdir({ file: 'x' })}/file`
  await t.rejects(startGateway(loadConfig({ PORT: '0', DATA_DIR: dataDir, SIM_PORT: String(simPort), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off' }), { logStream: logSink().stream }),
    { message: `DATA_DIR ${dataDir} is not a folder (a file has that name or is on its path); set DATA_DIR to a folder` })
  const again = createServer()
  t.teardown(() => { again.close() })
  await t.resolves(new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(simPort, '127.0.0.1', resolve) }), 'the simulator\'s port is free again: nothing keeps the process alive')
})

t.test('with a PBX on every interface and no PUBLIC_URL, the start warns that recording links name 127.0.0.1', async (t) => {
  const sim = await startSim(t)
  const start = async (env: Record<string, string>): Promise<string[]> => {
    const logs = logSink()
    const gw = await startGateway(loadConfig({ ...pbxEnv(sim.url), GATEWAY_KEYS: 'public-url-test-key-0123456789', PORT: '0', DATA_DIR: t.testdir({}), LOG_FORMAT: 'json', ...env }), { logStream: logs.stream })
    await gw.close()
    return logs.text().trim().split('\n').map((l) => JSON.parse(l) as { level: number, msg: string }).filter((l) => l.level >= 40).map((l) => l.msg)
  }
  const warned = await start({ HOST: '0.0.0.0' })
  t.match(warned.join('\n'), /PUBLIC_URL is not set: recording links in webhooks will say http:\/\/127\.0\.0\.1:\d+/)
  t.notMatch((await start({ HOST: '0.0.0.0', PUBLIC_URL: 'http://gateway.lan:8080' })).join('\n'), /PUBLIC_URL/, 'not with PUBLIC_URL set')
  t.notMatch((await start({ HOST: '127.0.0.1' })).join('\n'), /PUBLIC_URL/, 'not on loopback')
  t.notMatch((await start({ HOST: '0.0.0.0', RECORDINGS_SOURCE: 'off' })).join('\n'), /PUBLIC_URL/, 'not without recordings')
})

t.test('a start that fails in the services (the database refuses) rejects, and stops the demo simulator and the app it started', async (t) => {
  const { createServer } = await import('node:net')
  /** A port free now: the simulator's, and one nothing listens on (PostgreSQL's connection is refused at once). */
  const freePort = async (): Promise<number> => {
    const probe = createServer()
    await new Promise<void>((resolve) => { probe.listen(0, '127.0.0.1', resolve) })
    const address = probe.address()
    await new Promise((resolve) => { probe.close(resolve) })
    return typeof address === 'object' && address !== null ? address.port : 0
  }
  const [simPort, closedPort] = [await freePort(), await freePort()]
  const dataDir = t.testdir({})
  await t.rejects(startGateway(loadConfig({ PORT: '0', DATA_DIR: dataDir, SIM_PORT: String(simPort), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off', DATABASE_URL: `postgres://gw@127.0.0.1:${closedPort}/gw` }), { logStream: logSink().stream }),
    { message: /ECONNREFUSED|connect/ })
  const again = createServer()
  t.teardown(() => { again.close() })
  await t.resolves(new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(simPort, '127.0.0.1', resolve) }), 'the simulator\'s port is free again: nothing keeps the process alive')
  const { readdir } = await import('node:fs/promises')
  t.same((await readdir(dataDir)).filter((f) => f.startsWith('demo-run')), [], 'the demo run\'s folder is removed')
})

t.test('demo mode removes the run folders killed demo runs left in DATA_DIR, not a running one\'s', async (t) => {
  const { spawn } = await import('node:child_process')
  const { readdir } = await import('node:fs/promises')
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  const dataDir = t.testdir({ [`demo-run-1-${child.pid ?? 0}`]: { 'gateway.db': 'x' }, 'demo-run-2-1': {}, 'keep.txt': 'x' })
  const gw = await startGateway(loadConfig({ PORT: '0', DATA_DIR: dataDir, DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off' }), { logStream: logSink().stream })
  const during = await readdir(dataDir)
  await gw.close()
  t.notOk(during.includes(`demo-run-1-${child.pid ?? 0}`), 'a killed run\'s folder is removed')
  t.ok(during.includes('demo-run-2-1') && during.includes('keep.txt'), 'a running process\'s (pid 1) and other files stay')
  t.ok(during.some((n) => n.startsWith(`demo-run-`) && n.endsWith(`-${process.pid}`)), 'this run has its own')
  t.same((await readdir(dataDir)).sort(), ['demo-run-2-1', 'keep.txt'], 'and removes it at shutdown')
})
