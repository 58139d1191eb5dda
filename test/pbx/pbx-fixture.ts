// Shared set-up for the PBX client tests: a simulator on 127.0.0.1:0 and the clients pointed at it,
// both closed by tap's teardown. Short retry and reconnect delays keep the tests fast. The simulator
// runs the PBX of SIM_PBX (test/sim/pbx-under-test.ts; default the built-in one) with its API client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.js'
import { createPbxClients, type PbxClients, type PbxClientsOptions } from '../../src/pbx/pbx-clients.js'
import type { Config } from '../../src/config.js'
import { PBX } from '../sim/pbx-under-test.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export const FAST: PbxClientsOptions = {
  retry: { retries: 2, baseMs: 10, maxMs: 40 },
  reconnect: { baseMs: 20, maxMs: 200 },
  pingIntervalMs: 1000
}

export function pbxConfig (url: string, over: Partial<Config['pbx']> = {}): Pick<Config, 'pbx'> {
  return { pbx: { url, clientId: PBX.clientId, clientSecret: PBX.secret, timeoutMs: 5000, timezone: 'UTC', ...over } }
}

/** The gateway's PBX settings (environment form) for the simulator at `url`, with the API client of SIM_PBX's PBX. */
export function pbxEnv (url: string): { PBX_URL: string, PBX_CLIENT_ID: string, PBX_CLIENT_SECRET: string } {
  return { PBX_URL: url, PBX_CLIENT_ID: PBX.clientId, PBX_CLIENT_SECRET: PBX.secret }
}

export async function startSim (t: Teardown, opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ ...PBX.simOptions, ...opts })
  t.teardown(async () => { await sim.close() })
  return sim
}

export function clientsFor (t: Teardown, url: string, over: Partial<Config['pbx']> = {}, opts: PbxClientsOptions = {}): PbxClients {
  const clients = createPbxClients(pbxConfig(url, over), { ...FAST, ...opts })
  t.teardown(async () => { await clients.close() })
  return clients
}

/** Starts one scripted call (simulator.md §3) through the simulator's control API; returns its callid. */
export async function startCall (sim: Simulator, script: object): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) })
  if (res.status !== 201) throw new Error(`/_sim/calls answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { callid: number }).callid
}

/** A tiny local HTTP server for answers the simulator never gives (no JWT, odd token endpoints). */
export async function localServer (t: Teardown, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string, server: Server }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** A URL on 127.0.0.1 where nothing listens. */
export async function closedPortUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return `http://127.0.0.1:${port}`
}

/** Waits until `check()` is true (polling; a check may be async), failing after `ms`. */
export async function until (check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
