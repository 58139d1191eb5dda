// A taken port: one sentence naming the port and the setting, and nothing else starts.
import t from 'tap'
import { createServer, type Server } from 'node:net'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { assertPortFree, describeListenError, ListenError } from '../src/port-probe.js'
import { main } from '../src/cli.js'

async function occupy (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const a = server.address()
  return { server, port: typeof a === 'object' && a !== null ? a.port : 0 }
}

function capture (): { io: { stdout: Writable, stderr: Writable }, err: () => string } {
  let err = ''
  const sink = new Writable({ write (_c, _e, cb) { cb() } })
  return { io: { stdout: sink, stderr: new Writable({ write (c, _e, cb) { err += String(c); cb() } }) }, err: () => err }
}

t.test('assertPortFree: a free port passes, a taken one names the port and the setting', async (t) => {
  const { server, port } = await occupy()
  t.teardown(() => { server.close() })
  await t.rejects(assertPortFree('127.0.0.1', port, 'PORT'), new ListenError(`port ${port} on 127.0.0.1 is already in use (another gateway or simulator still running?); stop that program or set PORT to a free port`))
  await t.resolves(assertPortFree('127.0.0.1', 0, 'PORT'), 'port 0 always succeeds')
  const free = await occupy()
  free.server.close()
  await new Promise((resolve) => { free.server.once('close', resolve) })
  await t.resolves(assertPortFree('127.0.0.1', free.port, 'PORT'), 'a free port passes')
  await t.rejects(assertPortFree('192.0.2.1', free.port, 'PORT'), /192\.0\.2\.1 is not an address of this machine.*set HOST/, 'a foreign address names HOST')
})

t.test('describeListenError: permissions, unknown errors', async (t) => {
  t.match(describeListenError(Object.assign(new Error('x'), { code: 'EACCES' }), '0.0.0.0', 80, 'PORT')?.message, /port 80 on 0\.0\.0\.0 needs privileges.*set PORT to a port above 1023/)
  t.equal(describeListenError(Object.assign(new Error('x'), { code: 'EMFILE' }), '0.0.0.0', 80, 'PORT'), null)
  t.equal(describeListenError(null, '0.0.0.0', 80, 'PORT'), null)
})

t.test('serve on a taken port: exit 1, one line, no simulator and no data written', async (t) => {
  const { server, port } = await occupy()
  t.teardown(() => { server.close() })
  const dataDir = path.join(t.testdir({}), 'data')
  const saved = { ...process.env }
  t.teardown(() => { for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k); Object.assign(process.env, saved) })
  Reflect.deleteProperty(process.env, 'PBX_URL')
  Object.assign(process.env, { HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, DEMO_TRAFFIC: '0' })
  const c = capture()
  t.equal(await main(['serve'], c.io), 1)
  t.equal(c.err(), `3cx-gateway: port ${port} on 127.0.0.1 is already in use (another gateway or simulator still running?); stop that program or set PORT to a free port\n`)
  t.notOk(existsSync(dataDir), 'nothing was started: the data directory was not even created')
})

t.test('sim on a taken port names --port', async (t) => {
  const { server, port } = await occupy()
  t.teardown(() => { server.close() })
  const c = capture()
  t.equal(await main(['sim', '--port', String(port)], c.io), 1)
  t.match(c.err(), new RegExp(`^3cx-gateway sim: port ${port} on 127\\.0\\.0\\.1 is already in use.*set --port to a free port\\n$`))
})
