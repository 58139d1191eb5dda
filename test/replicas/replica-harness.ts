// Test harness for replicas as real processes (test/faults/lib/gateway-child.ts, configured from the
// environment as in production): spawning one and waiting for its `ready <url>`, its /readyz, its
// metrics, condition waits that show the replicas' last output when they time out, and the clean-up.
import type { ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { spawnUninstrumented } from '../ts-child.js'
import { gatewayChildArgs } from '../faults/lib/gateway-child-bundle.js'
import { catchUpOf, type CatchUp } from '../faults/lib/catch-ups.js'

export const REPLICA_KEY = 'failover-test-key-5f2a9c7e1b3d'

export interface Replica {
  name: string, child: ChildProcess, url: string, exited: Promise<void>, output: () => string, alive: () => boolean
  /** The catch-up snapshots its log reported (catch-ups.ts), with the tenant of each (tenants mode). */
  catchUps: () => ReadonlyArray<CatchUp & { tenant?: string }>
}

/**
 * The settings every replica of these tests shares (webhooks to `webhookUrl`, short retries and grace,
 * a stream lease of REPLICA_LEASE_MS: 3 s, not the default 5 s, so take-overs and the spread's waits
 * take less time; what the tests check does not depend on the lease's length). Not shorter: a holder
 * that cannot renew for a lease loses its stream and exits, and with 2 s a holder starved on a busy
 * test machine lost it in the middle of failover.test.ts (2026-12-07).
 */
export const REPLICA_LEASE_MS = 3000
export function replicaEnv (o: { dataDir: string, databaseUrl: string, graceMs: number, webhookUrl?: string }): Record<string, string> {
  return {
    REPLICA_LEASE_MS: String(REPLICA_LEASE_MS),
    GATEWAY_KEYS: `${REPLICA_KEY}:control`, HOST: '127.0.0.1', PORT: '0', DATA_DIR: o.dataDir, DATABASE_URL: o.databaseUrl,
    ...(o.webhookUrl !== undefined ? { WEBHOOK_URLS: o.webhookUrl } : {}),
    WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 9).toString('base64'), WEBHOOK_RETRY_SCHEDULE: '0,50ms,200ms,500ms', WEBHOOK_TIMEOUT_MS: '2000',
    CALL_END_GRACE_MS: String(o.graceMs), RECORDINGS_SOURCE: 'off', RATE_LIMIT_PER_MINUTE: '100000', LOG_LEVEL: process.env.REPLICA_LOG_LEVEL ?? 'warn'
  }
}

export async function spawnReplica (name: string, env: Record<string, string>, startMs = 60_000): Promise<Replica> {
  return await launchReplica(name, env, startMs, false).start()
}

/**
 * A replica whose code loads now and which starts only when `start()` is called (FAULT_RIG_SPARE,
 * gateway-child.ts): its start is then the gateway's own start on its DATA_DIR and tenants, without the
 * second or more of loading the code (which runs meanwhile). `startMs` counts from `start()`.
 */
export function spareReplica (name: string, env: Record<string, string>, startMs = 60_000): SpareReplica {
  return launchReplica(name, env, startMs, true)
}

export interface SpareReplica { child: ChildProcess, start: () => Promise<Replica> }

function launchReplica (name: string, env: Record<string, string>, startMs: number, spare: boolean): SpareReplica {
  const child = spawnUninstrumented(gatewayChildArgs(), { env: { ...process.env, ...env, ...(spare ? { FAULT_RIG_SPARE: '1' } : {}) }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  let out = ''
  let line = ''
  const catchUps: Array<CatchUp & { tenant?: string }> = []
  // REPLICA_LOG_DIR=/tmp/x keeps each replica's whole output in /tmp/x/<name>.log (to look into a failure).
  const keep = process.env.REPLICA_LOG_DIR !== undefined ? createWriteStream(path.join(process.env.REPLICA_LOG_DIR, `${name}.log`)) : null
  let ready: (url: string) => void = () => {}
  let loaded: () => void = () => {}
  const take = (c: Buffer): void => {
    out = (out + c.toString()).slice(-50_000)
    // Whole lines, so no catch-up is lost to the trimmed output.
    const lines = (line + c.toString()).split('\n')
    line = lines.pop() ?? ''
    for (const l of lines) {
      const caught = catchUpOf(l)
      if (caught !== null) catchUps.push({ ...caught, tenant: (JSON.parse(l) as { tenant?: string }).tenant })
    }
    keep?.write(c)
    if (/^loaded$/m.test(out)) loaded()
    const m = /ready (http\S+)/.exec(out)
    if (m !== null) ready(m[1])
  }
  child.stdout?.on('data', take)
  child.stderr?.on('data', take)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  // A spare is told to go once its code is loaded (at once if it already is).
  const codeLoaded = spare ? new Promise<void>((resolve) => { loaded = resolve }) : Promise.resolve()
  const start = async (): Promise<Replica> => {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${name} did not start within ${startMs} ms:\n${out.slice(-2000)}`)) }, startMs)
      ready = (u) => { clearTimeout(timer); resolve(u) }
      void exited.then(() => { clearTimeout(timer); reject(new Error(`${name} exited while starting:\n${out.slice(-2000)}`)) })
      if (spare) void codeLoaded.then(() => { if (child.connected) child.send({ type: 'go' }) })
    })
    return { name, child, url, exited, output: () => out, alive: () => child.exitCode === null && child.signalCode === null, catchUps: () => catchUps }
  }
  return { child, start }
}

/**
 * SIGTERM to every replica still running, and wait for them all to exit; one still running `killMs`
 * later is killed (SIGKILL) and named on stderr with its last output. A teardown must end: waiting
 * for a replica whose shutdown hung held a failed run until the file's time-out, and the replica
 * outlived it. Never throws (a teardown that rejects skips the teardowns after it).
 */
export async function stopReplicas (replicas: Iterable<Replica>, killMs = 10_000): Promise<void> {
  const all = [...replicas]
  for (const r of all) if (r.alive()) r.child.kill('SIGTERM')
  await Promise.all(all.map(async (r) => {
    let timer: NodeJS.Timeout | undefined
    const late = await Promise.race([r.exited.then(() => false), new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(true) }, killMs) })])
    clearTimeout(timer)
    if (!late) return
    process.stderr.write(`${r.name} did not exit within ${killMs} ms of SIGTERM: killed. Its last output:\n${r.output().slice(-3000)}\n`)
    r.child.kill('SIGKILL')
    await r.exited
  }))
}

/** A replica's /readyz body, or null when it does not answer. */
export async function readyz<T = Record<string, unknown>> (r: Replica): Promise<T | null> {
  try {
    return await (await fetch(`${r.url}/readyz`)).json() as T
  } catch {
    return null
  }
}

/** The first sample of a metric on a replica's /metrics (NaN when absent). */
export async function metric (r: Replica, name: string): Promise<number> {
  const text = await (await fetch(`${r.url}/metrics`, { headers: { 'x-api-key': REPLICA_KEY } })).text()
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'm').exec(text)
  return m === null ? NaN : Number(m[1])
}

/**
 * Waits for a condition, as until() (test/pbx/pbx-fixture.ts) does, but probing every `everyMs` (200 ms,
 * not until()'s 20 ms): the probes here are replicas' /readyz and /metrics, and each /readyz runs every
 * tenant's checks (a database query each), so probing a few replicas every 20 ms kept them and their
 * database busy with the probes themselves. On time-out the error carries the replicas' last output.
 */
export async function waitUntil (what: string, ms: number, probe: () => Promise<boolean>, replicas: Iterable<Replica> = [], everyMs = 200): Promise<void> {
  const deadline = Date.now() + ms
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${[...replicas].map((r) => `${r.name}: ${r.output().slice(-1500)}`).join('\n---\n')}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
