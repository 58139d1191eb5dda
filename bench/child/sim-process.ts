// A 3CX V20 simulator in its own process for the benchmark. Commands: start long calls in bulk,
// count and clear the request log, add a second (read-only XAPI) API client for direct reads,
// faults, close.
import { createSimulator } from '../../src/sim/simulator.js'
import { DIRECT_CLIENT, longCallScript, type SimInfo } from './sim-scripts.js'
import { memoryMb, serveIpc } from './ipc-server.js'

const sim = await createSimulator({ port: 0, host: '127.0.0.1' })
let callCounter = 0

serveIpc({
  startCalls: ({ count, talkMs }: { count: number, talkMs: number }) => {
    for (let i = 0; i < count; i++) sim.ctx.engine.startCall(longCallScript(callCounter++, talkMs))
    return { started: count }
  },
  /** XAPI/Call Control requests logged since the last clear whose URL matches `pattern`. */
  countRequests: ({ pattern }: { pattern: string }) => {
    const re = new RegExp(pattern)
    const matching = sim.ctx.requestLog.filter((r) => re.test(r.url))
    return { count: matching.length, urls: matching.slice(0, 5).map((r) => r.url) }
  },
  lastRequest: ({ pattern }: { pattern: string }) => {
    const re = new RegExp(pattern)
    return [...sim.ctx.requestLog].reverse().find((r) => re.test(r.url)) ?? null
  },
  clearRequestLog: () => { sim.ctx.requestLog.length = 0 },
  addDirectClient: () => {
    const clients = sim.ctx.directory.apiClients
    if (!clients.some((c) => c.clientId === DIRECT_CLIENT.clientId)) {
      clients.push({ ...DIRECT_CLIENT, xapi: true, callControl: false, role: 'SystemOwner', monitored: [] })
    }
    return DIRECT_CLIENT
  },
  faults: (settings: Record<string, unknown>) => sim.ctx.faults.apply(settings),
  memory: () => memoryMb(),
  close: async () => {
    await sim.close()
    setTimeout(() => process.exit(0), 20)
  }
}, { url: sim.url, pid: process.pid } satisfies SimInfo)
