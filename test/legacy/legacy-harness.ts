// Shared setup for the legacy API tests: the simulator on 127.0.0.1:0, the real PBX clients
// against it and the gateway app built by buildApp(). Everything is closed on teardown. The simulator
// runs the PBX of SIM_PBX (test/sim/pbx-under-test.ts; default the built-in one) with its API client.
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createPbxClients, type PbxClients } from '../../src/pbx/pbx-clients.js'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import type { CallModelView, LiveCall } from '../../src/calls/live-call.js'
import type { AuthOptions } from '../../src/plugins/app/auth.js'
import { CallModel } from '../../src/calls/call-model.js'
import { DidMapLoader } from '../../src/calls/did-map.js'
import type { GatewayMetrics } from '../../src/metrics.js'
import { PBX } from '../sim/pbx-under-test.js'

export const READ_KEY = 'read-key-5f1c9a7e2b4d8f03'
export const CONTROL_KEY = 'ctl-key-9d2e7b1a6c3f5e48'

export interface AppOnSimulator {
  sim: Simulator
  app: FastifyInstance
  clients: PbxClients
  config: Config
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** A fixed set of live calls, for tests of shapes that do not need the real call model. */
export function staticCalls (calls: LiveCall[] = []): CallModelView {
  const legsOf = (dn: string): LiveCall['legs'][number][] => calls.flatMap((c) => c.legs.filter((l) => l.dn === dn))
  return {
    list: () => calls,
    size: () => calls.length,
    isBusy: (dn) => legsOf(dn).length > 0,
    isTalking: (dn) => legsOf(dn).some((l) => l.status === 'Connected'),
    reserve: (callid) => ({ chid: `chain-${callid}`, legacyId: `261121083716_${callid}-0` })
  }
}

/**
 * The app from buildApp() (no services.ts: a static or live call model, no outbox or recordings)
 * over a fresh simulator; not the whole gateway, which src/server.ts's startGateway() starts.
 */
export async function startAppOnSimulator (t: Teardown, opts: {
  calls?: CallModelView
  auth?: AuthOptions
  logger?: FastifyServerOptions['logger']
  loggerInstance?: FastifyBaseLogger
  listen?: boolean
  env?: Record<string, string>
  /** Drive the real CallModel from the simulator's Call Control stream. */
  liveModel?: boolean
  /** Request counters (/metrics): none unless given. */
  metrics?: GatewayMetrics
  /** buildApp's socketTimeoutMs. */
  socketTimeoutMs?: number
} = {}): Promise<AppOnSimulator> {
  const sim = await createSimulator(PBX.simOptions)
  const config = loadConfig({
    PBX_URL: sim.url,
    PBX_CLIENT_ID: PBX.clientId,
    PBX_CLIENT_SECRET: PBX.secret,
    GATEWAY_KEYS: `${READ_KEY}:read,${CONTROL_KEY}:control`,
    ...opts.env
  })
  const clients = createPbxClients(config, { retry: { retries: 0 } })
  let model: CallModel | undefined
  if (opts.liveModel === true) {
    const dids = new DidMapLoader({ xapi: clients.xapi })
    await dids.refresh()
    const cc = clients.callControl
    // Wired as services.ts does: a call's end waits for changes still being fetched on a slow PBX.
    const m = new CallModel({ timeZone: 'UTC', graceMs: 300, internalCalls: true, didLookup: (q) => dids.lookup(q), oldestPendingChange: () => cc.oldestPendingUpsert(), blindSince: () => cc.blindSince() })
    model = m
    clients.callControl.onChange((change) => { m.apply(change) })
    clients.callControl.start()
    await clients.callControl.ready()
  }
  const app = await buildApp({ config, xapi: clients.xapi, callControl: clients.callControl, calls: model ?? opts.calls ?? staticCalls(), metrics: opts.metrics },
    { logger: opts.logger, loggerInstance: opts.loggerInstance, auth: opts.auth, socketTimeoutMs: opts.socketTimeoutMs })
  t.teardown(async () => {
    model?.stop()
    await app.close()
    await clients.close()
    await sim.close()
  })
  if (opts.listen === true) await app.listen({ port: 0, host: '127.0.0.1' })
  return { sim, app, clients, config }
}

/** The three URL forms of one method call (legacy-api.md §1). */
export function keyForms (method: string, query: string, key: string): Array<{ form: string, url: string, headers: Record<string, string> }> {
  const q = query === '' ? '' : `?${query}`
  return [
    { form: 'path', url: `/webapi/${key}/${method}${q}`, headers: {} },
    { form: 'query', url: `/${method}?${query === '' ? '' : `${query}&`}key=${key}`, headers: {} },
    { form: 'header', url: `/${method}${q}`, headers: { 'x-api-key': key } }
  ]
}

/** XAPI requests the simulator received since `from` (an index into its request log). */
export function xapiRequests (gw: { sim: Simulator }, from = 0): string[] {
  return gw.sim.ctx.requestLog.slice(from).filter((r) => r.url.startsWith('/xapi/')).map((r) => `${r.method} ${r.url}`)
}

/** Polls `probe` every 20 ms until it returns something other than undefined. */
export async function waitFor<T> (what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
