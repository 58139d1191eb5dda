// Shared set-up for the simulator XAPI tests: a simulator on 127.0.0.1:0 (closed by teardown), a
// token from POST /connect/token and small fetch helpers that return status, headers and parsed JSON.
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface XapiAnswer {
  status: number
  headers: Headers
  body: any
}

export interface XapiSim {
  sim: Simulator
  token: string
  get: (path: string) => Promise<XapiAnswer>
  patch: (path: string, body: unknown) => Promise<XapiAnswer>
  post: (path: string, body?: unknown) => Promise<XapiAnswer>
  /** The `@odata.context` the simulator writes for a fragment: `context('Users/$entity')`. */
  context: (fragment: string) => string
}

export async function fetchToken (url: string, clientId = '599', secret = 'sim-secret'): Promise<string> {
  const res = await fetch(`${url}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`
  })
  if (res.status !== 200) throw new Error(`token request failed with ${res.status}`)
  return ((await res.json()) as { access_token: string }).access_token
}

/** Any request to the simulator as API client `clientId` (a token of its own); the JSON body parsed, null when empty. */
export type SimClient = (method: string, path: string, body?: unknown) => Promise<{ status: number, body: any }>

export async function simClient (url: string, clientId: string, secret: string): Promise<SimClient> {
  const token = await fetchToken(url, clientId, secret)
  return async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? null : JSON.parse(text) }
  }
}

async function answer (res: Response): Promise<XapiAnswer> {
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  return { status: res.status, headers: res.headers, body: type.includes('json') && text !== '' ? JSON.parse(text) : text }
}

export async function startXapiSim (t: Teardown): Promise<XapiSim> {
  const sim = await createSimulator()
  t.teardown(async () => { await sim.close() })
  const token = await fetchToken(sim.url)
  const call = async (method: string, path: string, body?: unknown): Promise<XapiAnswer> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${sim.url}/xapi/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    return await answer(res)
  }
  return {
    sim,
    token,
    get: async (path) => await call('GET', path),
    patch: async (path, body) => await call('PATCH', path, body),
    post: async (path, body) => await call('POST', path, body),
    context: (fragment) => `${sim.url}/xapi/v1/$metadata#${fragment}`
  }
}

/** `$filter` value, percent-encoded the way a client sends it. */
export const filter = (expr: string): string => `$filter=${encodeURIComponent(expr)}`

export const CALL_LOG_ARGS = "sourceType=0,sourceFilter='',destinationType=0,destinationFilter='',callsType=0,callTimeFilterType=0,callTimeFilterFrom='0:00:0',callTimeFilterTo='0:00:0',hidePcalls=true"

export function callLogPath (from: string, to: string, args = CALL_LOG_ARGS): string {
  return `ReportCallLogData/Pbx.GetCallLogData(periodFrom=${from},periodTo=${to},${args})`
}

export function queueReportPath (kind: 'abandoned' | 'performance', from: string, to: string, queueDns = "'800'", wait = "'0:00:00'"): string {
  const fn = kind === 'abandoned'
    ? 'ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData'
    : 'ReportQueuePerformanceOverview/Pbx.GetQueuePerformanceOverviewData'
  return `${fn}(periodFrom=${from},periodTo=${to},queueDns=${queueDns},waitInterval=${wait})`
}

/** A minimal valid WAV file (PCM 16-bit, 8 kHz, mono) of `ms` milliseconds of a tone. */
export function wavBytes (ms: number): Buffer {
  const samples = Math.round(8 * ms)
  const data = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin(i / 8000 * 2 * Math.PI * 440)), i * 2)
  const head = Buffer.alloc(44)
  head.write('RIFF', 0); head.writeUInt32LE(36 + data.length, 4); head.write('WAVE', 8)
  head.write('fmt ', 12); head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(1, 22)
  head.writeUInt32LE(8000, 24); head.writeUInt32LE(16000, 28); head.writeUInt16LE(2, 32); head.writeUInt16LE(16, 34)
  head.write('data', 36); head.writeUInt32LE(data.length, 40)
  return Buffer.concat([head, data])
}
