// The fault suite's scenario rig: the simulator and a webhook receiver in the test process (they
// survive every fault), the gateway in a child process (gateway-child.ts) on a DATA_DIR that
// outlives it, and the moves a scenario makes: random traffic, PBX faults, killing and restarting the
// gateway, taking the receiver down. At the end `finish()` waits until everything has settled and
// checks the deliveries against the simulator's ground truth (ground-truth.ts).
import { request as httpRequest } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createSimulator, type Simulator } from '../../../src/sim/simulator.js'
import { startReceiver, type Receiver, type Received, type Reply } from '../../webhooks/receiver.js'
import { checkDeliveries, type BlindWindow, type ReceivedHook } from './ground-truth.js'
import type { Claim, ReceiverMode, ScenarioResult, TrafficPlan } from './rig-types.js'
import { catchUpOf, catchUpWindows, type CatchUp } from './catch-ups.js'
import { launchGateway, type GatewayProcess, type LaunchedGateway } from './gateway-process.js'

export const RIG_KEY = 'fault-suite-key-7c1e9a2b5d'
/** The key in the URL in the forms that were logged whole (issue 15 item 4); the first four and the last authenticate. */
export const KEY_FORMS = [
  `/pbx.calls.get?%6bey=${RIG_KEY}`,
  `/pbx.calls.get?ke%79=${RIG_KEY}`,
  `/%77ebapi/${RIG_KEY}/pbx.calls.get`,
  `/pbx.calls.get?x=1&%6bey=${RIG_KEY}`,
  `//webapi/${RIG_KEY}/pbx.calls.get`,
  `/./webapi/${RIG_KEY}/pbx.calls.get`,
  `/pbx.calls.get?key[]=${RIG_KEY}`,
  `/pbx.calls.get?x=1;key=${RIG_KEY}`,
  `/pbx.calls.get?x=1&%6B%65%79=${RIG_KEY}`
]
export const RIG_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64')
/**
 * CALL_END_GRACE_MS of the rig's gateway (default 2000): a transferred leg's end waits this long for
 * the next leg to be fetched. 1 s, not less: a loaded machine (2 cores, other tests) delays fetches that long.
 */
export const GRACE_MS = 1000

export type { TrafficPlan, ScenarioResult, Claim, ReceiverMode } from './rig-types.js'

export class FaultRig {
  readonly dataDir: string
  readonly blind: BlindWindow[] = []
  readonly notes: string[] = []
  readonly claims: Claim[] = []
  sim!: Simulator
  gateway: GatewayProcess | null = null
  restarts = 0
  crashed = false
  receiverMode: ReceiverMode = { kind: 'ok' }
  /** See CheckOptions.marginMs: raise it when the gateway lags behind the PBX for a while after a blind window (a restart on a loaded machine). */
  marginMs = 300
  /** See CheckOptions.minObservableMs: set it when the scenario adds PBX latency. */
  minObservableMs = 0
  /** When set, minObservableMs applies only to calls overlapping these stretches of added latency. */
  slow: Array<{ from: number, to: number }> | undefined
  /** Gateway processes with their code loaded, waiting to be started in turn (prepareSpare). */
  private readonly spares: LaunchedGateway[] = []
  private receiver: Receiver | null = null
  private receiverPort = 0
  private readonly received: Received[] = []
  private readonly errorLines: string[] = []
  /** The gateway's catch-up snapshots (catch-ups.ts): blind windows measured from its log. */
  private readonly catchUps: CatchUp[] = []
  /** Every gateway log line, counted (all and at info level); those that carry RIG_KEY kept. */
  readonly logScan = { lines: 0, info: 0, withKey: [] as string[] }
  private readonly started = Date.now()
  private baselineHeap = 0

  constructor (readonly name: string, private readonly env: Record<string, string> = {}) {
    this.dataDir = mkdtempSync(path.join(os.tmpdir(), `gw-faults-${name.replace(/\W+/g, '-')}-`))
  }

  async start (): Promise<void> {
    this.sim = await createSimulator({ seed: 7 })
    await this.receiverUp()
    this.gateway = await this.spawnGateway()
    this.baselineHeap = await this.heapMb()
  }

  get receiverUrl (): string { return `http://127.0.0.1:${this.receiverPort}/hook` }

  /** Every 2xx-answered request, across receiver restarts. */
  get deliveries (): readonly Received[] { return this.allReceived() }

  async receiverUp (): Promise<void> {
    const rx = await startReceiver(this.receiverPort, () => this.reply())
    this.receiverPort = rx.port
    this.receiver = rx
  }

  async receiverDown (): Promise<void> {
    const rx = this.receiver
    this.receiver = null
    if (rx === null) return
    this.received.push(...rx.received)
    await rx.close()
  }

  private reply (): Reply | undefined {
    const m = this.receiverMode
    if (m.kind === 'slow') return { delayMs: m.delayMs }
    if (m.kind === 'status') return { status: m.status }
    return undefined
  }

  /** Every delivery received so far, by every receiver the rig ran. */
  allReceived (): Received[] {
    return [...this.received, ...(this.receiver?.received ?? [])]
  }

  /** The next prepared spare once its code is loaded, else a new gateway process; resolves once it listens. */
  private async spawnGateway (): Promise<GatewayProcess> {
    return await (this.spares.shift() ?? this.launch(false)).started()
  }

  /** Spawns a gateway process on the rig's simulator, receiver and DATA_DIR (gateway-process.ts). */
  private launch (spare: boolean): LaunchedGateway {
    const launched = launchGateway({
      spare,
      env: {
        PBX_URL: this.sim.url,
        PBX_CLIENT_ID: '599',
        PBX_CLIENT_SECRET: 'sim-secret',
        GATEWAY_KEYS: `${RIG_KEY}:control`,
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: this.dataDir,
        WEBHOOK_URLS: this.receiverUrl,
        WEBHOOK_SECRET: RIG_SECRET,
        WEBHOOK_RETRY_SCHEDULE: '0,50ms,200ms,500ms',
        WEBHOOK_TIMEOUT_MS: '10000',
        CALL_END_GRACE_MS: String(GRACE_MS),
        RECORDINGS_SOURCE: 'xapi',
        RATE_LIMIT_PER_MINUTE: '100000',
        LOG_LEVEL: 'warn',
        ...this.env
      },
      onLine: (line) => { this.scanLine(line) },
      onErrorLine: (line) => { this.errorLines.push(line) }
    })
    return {
      ...launched,
      started: async () => {
        const proc = await launched.started()
        void proc.exited.then(() => {
          if (this.gateway === proc && proc.child.signalCode === null) this.crashed = true
        })
        return proc
      }
    }
  }

  /**
   * Loads the code of the next `count` gateways in spare processes while the current one runs, so
   * that each next (re)start is only the gateway's own start on the DATA_DIR.
   */
  prepareSpares (count = 1): void {
    while (this.spares.length < count) this.spares.push(this.launch(true))
  }

  /** SIGKILL now; restarted after `downMs` on the same DATA_DIR. The whole time is an amnesia window. */
  async killAndRestart (downMs: number): Promise<void> {
    const gw = this.gateway
    if (gw === null) throw new Error('no gateway')
    const from = Date.now()
    this.gateway = null
    gw.child.kill('SIGKILL')
    await gw.exited
    // A spare's code loads meanwhile; it starts on the DATA_DIR no sooner than downMs after the kill.
    await Promise.all([sleep(downMs), this.spares[0]?.loaded])
    this.gateway = await this.spawnGateway()
    this.restarts++
    await this.until('the restarted gateway to see the PBX', 20_000, async () => await this.websocketUp())
    this.blind.push({ kind: 'amnesia', from, to: Date.now() })
    this.notes.push(`SIGKILL at +${Math.round((from - this.started) / 100) / 10} s: blind for ${Date.now() - from} ms until the new process had its snapshot`)
  }

  /** Fills the gateway's disk (caps gateway.db at its size: every growing write fails SQLITE_FULL), or frees it. */
  async diskFull (full: boolean): Promise<void> {
    const answer = await this.ask({ type: 'disk-full', pages: full ? 0 : null })
    if (answer === null) throw new Error('the gateway did not answer disk-full')
  }

  /** Whether the gateway's recordings pipeline is idle: no leg waits for its files, no conversion pending or running. */
  async recordingsIdle (): Promise<boolean> {
    return (await this.ask({ type: 'recordings-idle' }))?.idle === true
  }

  /** Sends a message to the gateway child (gateway-child.ts) and waits for its answer of the same type; null after 5 s. */
  private async ask (message: { type: string, pages?: number | null }): Promise<Record<string, unknown> | null> {
    const child = this.gateway?.child
    if (child === undefined) throw new Error('no gateway')
    return await new Promise((resolve) => {
      const timer = setTimeout(() => { child.off('message', on); resolve(null) }, 5000)
      const on = (m: { type?: string }): void => {
        if (m.type !== message.type) return
        clearTimeout(timer)
        child.off('message', on)
        resolve(m)
      }
      child.on('message', on)
      child.send(message)
    })
  }

  /** Stops the gateway cleanly (SIGTERM); it stays down until startGateway(). */
  async stopGateway (): Promise<void> {
    const gw = this.gateway
    if (gw === null) throw new Error('no gateway')
    this.gateway = null
    gw.child.kill('SIGTERM')
    await gw.exited
  }

  /** Starts the gateway on the same DATA_DIR; rejects with its output when it refuses to start. */
  async startGateway (): Promise<void> {
    this.gateway = await this.spawnGateway()
    this.restarts++
    await this.until('the gateway to see the PBX', 20_000, async () => await this.websocketUp())
  }

  /** A stretch in which the gateway's Call Control view may have gaps (WebSocket cut, PBX down). */
  async gap (fault: () => Promise<void>): Promise<void> {
    const from = Date.now()
    await fault()
    await this.until('the WebSocket to reconnect', 30_000, async () => await this.websocketUp())
    this.blind.push({ kind: 'gap', from, to: Date.now() })
    this.notes.push(`gap at +${Math.round((from - this.started) / 100) / 10} s for ${Date.now() - from} ms`)
  }

  async faults (body: Record<string, unknown>): Promise<void> {
    const r = await fetch(`${this.sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!r.ok) throw new Error(`/_sim/faults answered ${r.status}`)
  }

  async traffic (plan: TrafficPlan): Promise<void> {
    const r = await fetch(`${this.sim.url}/_sim/traffic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ maxRingMs: 1500, maxTalkMs: 2500, recordShare: 0.1, ...plan })
    })
    if (r.status !== 202) throw new Error(`/_sim/traffic answered ${r.status}: ${await r.text()}`)
  }

  async stopTraffic (): Promise<void> {
    const r = await fetch(`${this.sim.url}/_sim/traffic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stop: true }) })
    if (!r.ok) throw new Error(`/_sim/traffic stop answered ${r.status}`)
  }

  async trafficRunning (): Promise<boolean> {
    const r = await fetch(`${this.sim.url}/_sim/traffic`)
    return ((await r.json()) as { running: boolean }).running
  }

  async api (pathAndQuery: string): Promise<{ status: number, body: unknown }> {
    const gw = this.gateway
    if (gw === null) throw new Error('no gateway')
    const r = await fetch(`${gw.url}${pathAndQuery}`, { headers: { 'x-api-key': RIG_KEY } })
    const text = await r.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch {}
    return { status: r.status, body }
  }

  async readiness (): Promise<{ ready: boolean, checks: Record<string, { ok: boolean, detail?: string }> } | null> {
    try {
      return (await this.api('/readyz')).body as { ready: boolean, checks: Record<string, { ok: boolean, detail?: string }> }
    } catch {
      return null
    }
  }

  async websocketUp (): Promise<boolean> {
    return (await this.readiness())?.checks?.websocket?.ok === true
  }

  async outboxDepth (): Promise<number> {
    return await this.metric('gateway_outbox_depth')
  }

  /** One unlabelled gauge of the gateway's /metrics (NaN when absent). */
  async metric (name: string): Promise<number> {
    return gaugeOf(String((await this.api('/metrics')).body), name)
  }

  /** The sum of a metric's samples whose labels include `labels` (0 when none). */
  async metricSum (name: string, labels: Record<string, string> = {}): Promise<number> {
    const r = await this.api('/metrics')
    let sum = 0
    for (const m of String(r.body).matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
      const have = m[1] ?? ''
      if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) sum += Number(m[2])
    }
    return sum
  }

  private scanLine (line: string): void {
    if (line === '') return
    this.logScan.lines++
    if (line.includes('"level":30')) this.logScan.info++
    if (line.includes(RIG_KEY)) this.logScan.withKey.push(line.slice(0, 300))
    const catchUp = catchUpOf(line)
    if (catchUp !== null) this.catchUps.push(catchUp)
  }

  /**
   * Sends the key in every encoded form of issue 15 item 4 (the key in the URL, no header), as
   * written: a raw HTTP request, since fetch would normalise `/./` and `//`. The answers' statuses.
   */
  async probeKeyForms (): Promise<number[]> {
    const gw = this.gateway
    if (gw === null) throw new Error('no gateway')
    const { hostname, port } = new URL(gw.url)
    const statuses: number[] = []
    for (const p of KEY_FORMS) {
      statuses.push(await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: hostname, port, path: p }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
        req.on('error', reject)
        req.end()
      }))
    }
    return statuses
  }

  /** Records a statement the scenario makes as a check (see ScenarioResult.claims). */
  claim (what: string, ok: boolean, got: string): void {
    this.claims.push({ what, ok, got })
  }

  async heapMb (): Promise<number> {
    if (this.gateway === null) return NaN
    const m = await this.ask({ type: 'mem' })
    return m === null ? NaN : Math.round(Number(m.heapUsed ?? 0) / 1e5) / 10
  }

  async until (what: string, ms: number, probe: () => Promise<boolean> | boolean, everyMs = 100): Promise<void> {
    const end = Date.now() + ms
    while (!(await probe())) {
      if (Date.now() > end) throw new Error(`${this.name}: timed out waiting for ${what}`)
      await sleep(everyMs)
    }
  }

  /**
   * Waits until the gateway owes nothing: every call it saw announced (`gateway_call_ends_owed`, past
   * its CALL_END_GRACE_MS), every call it never saw recovered from the call log (`gateway_unseen_calls`,
   * a few seconds), and every event delivered (`gateway_outbox_depth`: the receiver has it). Twice,
   * GRACE_MS apart, so that a call whose last WebSocket events were still on their way is not missed.
   */
  async settled (ms: number): Promise<void> {
    let quietSince = Infinity
    await this.until('the gateway to owe nothing (calls ended, unseen calls recovered, outbox drained)', ms, async () => {
      const r = await this.api('/metrics')
      const owed = ['gateway_call_ends_owed', 'gateway_unseen_calls', 'gateway_outbox_depth'].map((name) => gaugeOf(String(r.body), name))
      if (!owed.every((v) => v === 0)) { quietSince = Infinity; return false }
      quietSince = Math.min(quietSince, Date.now())
      return Date.now() - quietSince >= GRACE_MS
    }, 100)
  }

  /** Waits for the traffic to end, every call to end, the outbox to drain; then checks. */
  async finish (opts: { drainMs?: number } = {}): Promise<ScenarioResult> {
    const drainMs = opts.drainMs ?? 60_000
    await this.until('the traffic to end', drainMs, async () => !(await this.trafficRunning()) && this.sim.ctx.engine.activeCalls() === 0, 100)
    await this.settled(drainMs)
    const ac = await this.api('/pbx.ac.get')
    const phantoms = (ac.body as { count?: number }).count ?? NaN
    const end = await this.heapMb()
    const hooks: ReceivedHook[] = this.allReceived().map((r) => ({
      webhookId: String(r.headers['webhook-id'] ?? ''),
      at: r.at,
      body: JSON.parse(r.body) as Record<string, unknown>
    }))
    const records = this.sim.ctx.engine.records()
    const snapshots = this.sim.ctx.requestLog.filter((r) => r.method === 'GET' && r.url === '/callcontrol').map((r) => r.at)
    const caughtUp = catchUpWindows(this.catchUps, snapshots, Date.now())
    if (caughtUp.length > 0) this.notes.push(`${caughtUp.length} catch-up snapshot(s) (the gateway's reads fell behind): blind for ${caughtUp.map((w) => w.to - w.from).join(', ')} ms`)
    const report = checkDeliveries(records, hooks, { blind: [...this.blind, ...caughtUp], graceMs: GRACE_MS, marginMs: this.marginMs, minObservableMs: this.minObservableMs, slow: this.slow })
    return {
      name: this.name,
      seconds: Math.round((Date.now() - this.started) / 1000),
      calls: records.length,
      report,
      phantoms,
      restarts: this.restarts,
      heapMb: { baseline: this.baselineHeap, end },
      errorLines: [...this.errorLines],
      crashed: this.crashed,
      notes: [...this.notes],
      claims: [...this.claims]
    }
  }

  async close (): Promise<void> {
    const gw = this.gateway
    this.gateway = null
    if (gw !== null && gw.child.exitCode === null && gw.child.signalCode === null) {
      gw.child.kill('SIGTERM')
      const timer = setTimeout(() => gw.child.kill('SIGKILL'), 5000)
      await gw.exited
      clearTimeout(timer)
    }
    for (const spare of this.spares.splice(0)) spare.child.kill('SIGKILL')
    await this.receiverDown()
    await this.sim?.close()
    rmSync(this.dataDir, { recursive: true, force: true })
  }

  /** The gateway's log so far (for failure messages). */
  log (): string {
    return this.gateway?.output().slice(-3000) ?? ''
  }
}

/** One unlabelled gauge in a /metrics text (NaN when absent). */
function gaugeOf (metrics: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'm').exec(metrics)
  return m === null ? NaN : Number(m[1])
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
