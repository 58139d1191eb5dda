// The Call Control WebSocket alone, against the simulator's real socket, with timers on fake time:
// a reconnect happens only when the test moves the clock past its back-off, a ping only when it
// moves past the interval.
import t from 'tap'
import { PBX } from '../sim/pbx-under-test.js'
import type { Duplex } from 'node:stream'
import { clientsFor, startCall, startSim, until } from './pbx-fixture.js'
import { CallControlSocket } from '../../src/pbx/callcontrol-socket.js'
import type { Simulator } from '../../src/sim/simulator.js'
import { FakeClock, settle } from '../fake-clock.js'

const RECONNECT = { baseMs: 20, maxMs: 200 }
const PING_MS = 1000

interface Harness {
  socket: CallControlSocket
  clock: FakeClock
  /** What the handler heard: "open", "close" or "message". */
  heard: string[]
  logs: string[]
  observed: string[]
  count: (what: string) => number
}

function socketFor (t: Parameters<typeof clientsFor>[0], sim: Simulator): Harness {
  const clock = new FakeClock(Date.now()) // the simulator's tokens carry real expiry times
  const observed: string[] = []
  const { requester } = clientsFor(t, sim.url, {}, { clock })
  const heard: string[] = []
  const logs: string[] = []
  const log = (level: string) => (_obj: object, text?: string): void => { logs.push(`${level} ${text ?? ''}`) }
  const socket = new CallControlSocket({
    requester,
    clock,
    observe: (o) => observed.push(`${o.route} ${String(o.status)}`),
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    reconnect: RECONNECT,
    pingIntervalMs: PING_MS,
    handler: {
      opened: () => heard.push('open'),
      message: (text) => heard.push(JSON.parse(text).event === undefined ? 'other' : 'message'),
      closed: () => heard.push('close')
    }
  })
  t.teardown(async () => { await socket.stop() })
  return { socket, clock, heard, logs, observed, count: (what) => heard.filter((h) => h === what).length }
}

/** Waits for the reconnect timer, fires it, then waits for open number `n`. */
async function reconnected (h: Harness, n: number): Promise<void> {
  await until(() => h.clock.pending === 1, 2000, 'reconnect scheduled')
  await h.clock.advanceToNext()
  await until(() => h.count('open') === n, 2000, `open #${n}`)
}

t.test('opens, hands over messages, and after a drop reconnects only once the back-off has passed', async (t) => {
  const sim = await startSim(t)
  const h = socketFor(t, sim)
  t.notOk(h.socket.connected)
  h.socket.start()
  h.socket.start() // twice is once
  await until(() => h.count('open') === 1, 2000, 'open')
  t.ok(h.socket.connected)
  t.equal(h.clock.pending, 1, 'the ping timer')
  await startCall(sim, { from: '+15557654321', to: PBX.n('+15550101'), answer: null, ringMs: 50 })
  await until(() => h.count('message') > 0, 2000, 'an event')

  sim.ctx.faults.apply({ dropWebSocket: true })
  await until(() => h.count('close') === 1, 2000, 'close')
  t.notOk(h.socket.connected)
  t.ok(h.logs.includes('warn Call Control WebSocket closed; reconnecting'))
  t.equal(h.clock.pending, 1, 'only the reconnect timer: the ping timer is gone')
  await settle(10)
  t.equal(h.count('open'), 1, 'no reconnect while fake time stands still')
  await h.clock.advanceToNext()
  await until(() => h.count('open') === 2, 2000, 'reopen')
  t.equal(h.socket.reconnects, 1)
  t.same(h.observed, ['callcontrol/ws 101', 'callcontrol/ws 101'])
})

t.test('a 401 upgrade drops the token; the next try brings a new one', async (t) => {
  const sim = await startSim(t)
  const h = socketFor(t, sim)
  h.socket.start()
  await until(() => h.count('open') === 1, 2000, 'open')
  sim.ctx.faults.apply({ revokeTokens: true }) // closes the socket; the held token is now refused
  await until(() => h.count('close') === 1, 2000, 'close')
  await h.clock.advanceToNext()
  await until(() => h.count('close') === 2, 2000, 'the refused upgrade')
  t.ok(h.logs.includes('warn Call Control WebSocket upgrade refused (401)'))
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), 1)
  await reconnected(h, 2)
  t.equal(sim.ctx.auth.issued.get(PBX.clientId), 2, 'a new token for the next upgrade')
  t.ok(h.socket.connected)
})

t.test('a 403 upgrade says which access to tick; no token means a retry later', async (t) => {
  const sim = await startSim(t)
  const h = socketFor(t, sim)
  sim.ctx.directory.apiClients[0].callControl = false
  h.socket.start()
  await until(() => h.count('close') === 1, 2000, 'refused')
  t.match(h.logs.join('\n'), /upgrade refused \(403\): tick "3CX Call Control API Access"/)
  t.same(h.observed, ['callcontrol/ws 403'])

})

t.test('without a token (the PBX is down) the socket tries again after the back-off', async (t) => {
  const sim = await startSim(t)
  const h = socketFor(t, sim)
  sim.ctx.faults.apply({ down: true })
  h.socket.start()
  await until(() => h.logs.some((l) => l.includes('no token; will retry')), 2000, 'no token')
  t.same(h.heard, [], 'no socket was opened, so none closed')
  sim.ctx.faults.apply({ down: false })
  await reconnected(h, 1)
  t.equal(h.socket.reconnects, 0, 'the first open is no reconnect')
})

t.test('a socket whose peer stops answering pings is terminated and replaced', async (t) => {
  const sim = await startSim(t)
  const upgraded: Duplex[] = []
  sim.app.server.on('upgrade', (_req, socket: Duplex) => { upgraded.push(socket) })
  const h = socketFor(t, sim)
  h.socket.start()
  await until(() => h.count('open') === 1, 2000, 'open')
  t.equal(upgraded.length, 1)
  upgraded[0].pause() // from now on the simulator reads nothing, so it answers no ping
  await h.clock.advance(PING_MS) // a ping
  await settle(10)
  t.equal(h.count('close'), 0, 'a ping without an answer yet is fine')
  await h.clock.advance(PING_MS) // no pong since the last ping: terminated
  await until(() => h.count('close') === 1, 2000, 'terminated')
  await reconnected(h, 2)
  t.equal(h.socket.reconnects, 1)
})

t.test('stop() closes without telling the handler and cancels a pending reconnect; terminate() without a socket is a no-op', async (t) => {
  const sim = await startSim(t)
  const h = socketFor(t, sim)
  h.socket.terminate()
  h.socket.start()
  await until(() => h.count('open') === 1, 2000, 'open')
  await h.socket.stop()
  t.notOk(h.socket.connected)
  t.equal(h.clock.pending, 0)
  t.same(h.heard, ['open'])

  h.socket.start()
  await until(() => h.count('open') === 2, 2000, 'open again')
  h.socket.terminate()
  await until(() => h.clock.pending === 1, 2000, 'reconnect scheduled')
  h.socket.resetBackoff()
  await h.socket.stop()
  t.equal(h.clock.pending, 0, 'the reconnect is cancelled')
  await h.clock.advance(RECONNECT.maxMs)
  t.equal(h.count('open'), 2)
  await h.socket.stop() // twice is fine
})
