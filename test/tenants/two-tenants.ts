// Test fixture: a gateway with TENANTS_FILE serving two tenants, acme and beta, each on its own
// simulator with its own webhook receiver; and the isolation check the SQLite and PostgreSQL tests
// share: one tenant's calls, events and webhooks are never visible to the other.
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { parseTenantsFile } from '../../src/tenants/tenants-file.js'
import { startTenantGateway, type RunningTenantGateway } from '../../src/tenants/tenant-gateway.js'
import { tenantsFileSource } from '../../src/tenants/tenant-reload.js'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import { startReceiver, type Receiver } from '../webhooks/receiver.js'
import { until } from '../webhooks/helpers.js'

export const KEYS = { acme: 'acme-key-0123456789abcdef', beta: 'beta-key-0123456789abcdef', betaRead: 'beta-read-0123456789abcdef' }
/** Each tenant's caller: the number that marks its calls in every answer and payload. */
export const CALLER = { acme: '+15551110001', beta: '+15552220002' }

export interface TwoTenants {
  gw: RunningTenantGateway
  sims: { acme: Simulator, beta: Simulator }
  receivers: { acme: Receiver, beta: Receiver }
  dataDir: string
  /** TENANTS_FILE as started, and the variables its ${VAR}s name. */
  file: string
  text: string
  vars: Record<string, string>
}

export interface TwoTenantsOptions {
  /** Read the file again on SIGHUP (as `serve` does). */
  watch?: boolean
  logStream?: NodeJS.WritableStream
}

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

export async function startTwoTenants (t: Test, env: Record<string, string> = {}, opts: TwoTenantsOptions = {}): Promise<TwoTenants> {
  const sims = { acme: await createSimulator(), beta: await createSimulator() }
  const receivers = { acme: await startReceiver(), beta: await startReceiver() }
  t.teardown(async () => {
    for (const s of Object.values(sims)) await s.close()
    for (const r of Object.values(receivers)) await r.close()
  })
  const text = `tenants:
  - id: acme
    pbx: { url: '${sims.acme.url}', clientId: '599', clientSecret: '\${SIM_SECRET}' }
    keys: [{ key: '\${ACME_KEY}', scope: control }]
    webhooks: [{ name: crm_acme, url: '${receivers.acme.url}' }]
  - id: beta
    pbx: { url: '${sims.beta.url}', clientId: '599', clientSecret: '\${SIM_SECRET}' }
    keys: [{ key: '\${BETA_KEY}' }, { key: '\${BETA_READ_KEY}', scope: read }]
    webhooks: [{ name: crm_beta, url: '${receivers.beta.url}' }]
`
  const vars = { SIM_SECRET: 'sim-secret', ACME_KEY: KEYS.acme, BETA_KEY: KEYS.beta, BETA_READ_KEY: KEYS.betaRead }
  const dataDir = t.testdir({ 'tenants.yaml': text })
  const config = loadConfig({
    TENANTS_FILE: `${dataDir}/tenants.yaml`, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', RECORDINGS_SOURCE: 'off',
    CALL_END_GRACE_MS: '100', WEBHOOK_RETRY_SCHEDULE: '0,100ms,200ms', ...env
  })
  const file = `${dataDir}/tenants.yaml`
  const gw = await startTenantGateway(config, parseTenantsFile(text, file, vars), {
    logStream: opts.logStream ?? quiet(),
    ...(opts.watch === true ? { source: tenantsFileSource(file, vars) } : {})
  })
  t.teardown(() => gw.close())
  await Promise.all([...gw.tenants.values()].map(async (x) => { await x.services.pbx.callControl.ready() }))
  return { gw, sims, receivers, dataDir, file, text, vars }
}

/** Places a call; returns its callid. */
async function placeCall (simUrl: string, from: string, talkMs: number): Promise<number> {
  const res = await fetch(`${simUrl}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, to: '+15550101', answer: '101', ringMs: 200, talkMs, hangup: 'caller' })
  })
  if (res.status !== 201) throw new Error(`the simulator refused the call (${res.status})`)
  return ((await res.json()) as { callid: number }).callid
}

export async function api (gw: RunningTenantGateway, path: string, key?: string, init: RequestInit = {}): Promise<{ status: number, text: string, headers: Headers }> {
  const res = await fetch(`${gw.url}${path}`, { ...init, headers: { ...(key !== undefined ? { 'x-api-key': key } : {}), ...(init.headers as Record<string, string> | undefined) } })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

/** A call on each tenant's PBX; then what each key sees: its own calls, events and deliveries only. */
export async function checkIsolation (t: Test, x: TwoTenants): Promise<void> {
  // Calls that go on until the live lists are read (a loaded machine took over 1.5 s to show them), then hung up.
  const callA = await placeCall(x.sims.acme.url, CALLER.acme, 60_000)
  const callB = await placeCall(x.sims.beta.url, CALLER.beta, 60_000)
  const digits = (n: string): string => n.slice(2)
  const acme = x.gw.tenants.get('acme')
  const beta = x.gw.tenants.get('beta')
  await until(() => acme?.services.calls.size() === 1 && beta?.services.calls.size() === 1, 10_000)

  const liveA = await api(x.gw, '/pbx.ac.get', KEYS.acme)
  const liveB = await api(x.gw, `/webapi/${KEYS.beta}/pbx.ac.get`)
  t.equal(liveA.status, 200)
  t.ok(liveA.text.includes(digits(CALLER.acme)) && !liveA.text.includes(digits(CALLER.beta)), 'acme\'s key sees acme\'s call in progress only')
  t.ok(liveB.text.includes(digits(CALLER.beta)) && !liveB.text.includes(digits(CALLER.acme)), 'beta\'s key (in the path) sees beta\'s call only')
  x.sims.acme.ctx.engine.dropCall(callA)
  x.sims.beta.ctx.engine.dropCall(callB)

  const ended = (r: Receiver): boolean => r.received.some((m) => (JSON.parse(m.body) as { event: string }).event === 'incoming')
  await until(() => ended(x.receivers.acme) && ended(x.receivers.beta), 15_000)
  const bodies = (r: Receiver): string => r.received.map((m) => m.body).join('\n')
  t.ok(bodies(x.receivers.acme).includes(digits(CALLER.acme)), 'acme\'s receiver got acme\'s call')
  t.notOk(bodies(x.receivers.acme).includes(digits(CALLER.beta)), 'acme\'s receiver never got a beta event')
  t.notOk(bodies(x.receivers.beta).includes(digits(CALLER.acme)), 'beta\'s receiver never got an acme event')

  const logA = await api(x.gw, '/webhooks/deliveries', KEYS.acme)
  const logB = await api(x.gw, '/t/beta/webhooks/deliveries', KEYS.beta)
  t.equal(logA.status, 200)
  t.equal(logB.status, 200)
  const targets = (text: string): string[] => [...new Set((JSON.parse(text) as { deliveries: Array<{ target: string }> }).deliveries.map((d) => d.target))]
  t.same(targets(logA.text), ['crm_acme'], 'acme\'s delivery log holds acme\'s target only')
  t.same(targets(logB.text), ['crm_beta'], 'beta\'s delivery log holds beta\'s target only')

  // A key of one tenant never reaches the other: refused as the API refuses a wrong key.
  const cross = await api(x.gw, '/t/beta/webhooks/deliveries', KEYS.acme)
  t.equal(cross.status, 401, 'acme\'s key on beta\'s prefix: 401')
  t.match(JSON.parse(cross.text), { result: false, error: { code: 'UNAUTHORIZED' } })
  t.equal((await api(x.gw, `/t/acme/webapi/${KEYS.beta}/pbx.ac.get`)).status, 401, 'beta\'s key in the path under acme\'s prefix: 401')
  t.equal((await api(x.gw, '/webhooks/deliveries', KEYS.betaRead)).status, 403, 'a read key of beta on a control route: 403, as the API does')
}
