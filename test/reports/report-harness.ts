// Shared setup of the report tests: the simulator on 127.0.0.1:0, the real PBX clients against it,
// (the PBX of SIM_PBX, test/sim/pbx-under-test.ts) and a Fastify app with just what the report routes stand on (gateway services, error handler,
// key auth), so the tests do not depend on the rest of the app's assembly. Scripted calls are
// played to their end; reports are fetched with app.inject.
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import rateLimit, { rateLimitOptions } from '../../src/plugins/external/rate-limit.js'
import reportRoutes from '../../routes/reports.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createPbxClients } from '../../src/pbx/pbx-clients.js'
import auth from '../../src/plugins/app/auth.js'
import errorHandler from '../../src/plugins/app/error-handler.js'
import gateway from '../../src/plugins/app/gateway.js'
import type { Mp3LinkLookup } from '../../src/reports/mp3-links.js'
import type { XapiApi } from '../../src/pbx/pbx-api.js'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import type { CallModelView } from '../../src/calls/live-call.js'
import { until } from '../pbx/pbx-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'
import { csvObjects, readXlsx } from './report-readers.js'

export const READ_KEY = 'read-key-for-reports-7c41'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Reports never look at live calls. */
const NO_CALLS: CallModelView = { list: () => [], size: () => 0, isBusy: () => false, isTalking: () => false, reserve: (callid) => ({ chid: `c${callid}`, legacyId: `l${callid}` }) }

export interface ReportGateway { sim: Simulator, app: FastifyInstance, config: Config }

export interface ReportGatewayOptions {
  mp3Link?: Mp3LinkLookup
  /** Sees every XAPI list call before the real client makes it (to inject faults at a given page). */
  beforeList?: (path: string) => void
}

export async function startReportGateway (t: Teardown, env: Record<string, string> = {}, opts: ReportGatewayOptions = {}): Promise<ReportGateway> {
  const sim = await createSimulator(PBX.simOptions)
  const config = loadConfig({ PBX_URL: sim.url, PBX_CLIENT_ID: PBX.clientId, PBX_CLIENT_SECRET: PBX.secret, GATEWAY_KEYS: `${READ_KEY}:read`, ...env })
  const clients = createPbxClients(config, { retry: { retries: 0 } })
  const app = Fastify({ logger: false })
  const xapi = Object.create(clients.xapi) as XapiApi
  xapi.list = async (path, o) => { opts.beforeList?.(path); return await clients.xapi.list(path, o) }
  t.teardown(async () => {
    await app.close()
    await clients.close()
    await sim.close()
  })
  await app.register(rateLimit, rateLimitOptions)
  await app.register(gateway, { deps: { config, xapi, callControl: clients.callControl, calls: NO_CALLS } })
  await app.register(errorHandler)
  await app.register(auth)
  await app.register(reportRoutes, { mp3Link: opts.mp3Link })
  await app.ready()
  return { sim, app, config }
}

/** Starts one scripted call (simulator.md §3) over HTTP and waits until it has ended. */
export async function playCall (gw: { sim: Simulator }, script: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${gw.sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) })
  if (res.status !== 201) throw new Error(`scripted call refused: ${res.status} ${await res.text()}`)
  const { callid } = await res.json() as { callid: number }
  await until(() => gw.sim.ctx.engine.callStatus(callid)?.status === 'ended', 15_000, `call ${callid} to end`)
  return callid
}

/** Yesterday to tomorrow (UTC dates): today's calls, whatever the hour. */
export function aroundToday (): { from: string, to: string } {
  const day = 86_400_000
  return {
    from: new Date(Date.now() - day).toISOString().slice(0, 10),
    to: new Date(Date.now() + day).toISOString().slice(0, 10)
  }
}

export async function getReport (gw: ReportGateway, method: string, query: Record<string, string | number>): Promise<LightMyRequestResponse> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
  return await gw.app.inject({ url: `/${method}?${qs}`, headers: { 'x-api-key': READ_KEY } })
}

/** The rows of a 200 answer, whatever its format, as plain objects (CSV and XLSX values as read back). */
export async function rowsOf (res: LightMyRequestResponse): Promise<Array<Record<string, unknown>>> {
  const type = String(res.headers['content-type'])
  if (type.startsWith('application/json')) return (res.json() as { rows: Array<Record<string, unknown>> }).rows
  if (type.startsWith('text/csv')) return csvObjects(res.body)
  return (await readXlsx(res.rawPayload)).rows
}

/** XAPI requests the simulator received since index `from` of its request log, URL-decoded. */
export function pbxRequests (gw: ReportGateway, from: number, path: string): string[] {
  return gw.sim.ctx.requestLog.slice(from).map((r) => decodeURIComponent(r.url)).filter((u) => u.startsWith(`/xapi/v1/${path}`))
}
