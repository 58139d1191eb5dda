// Fail-over for real: three gateway processes on one PostgreSQL database against the simulator,
// random call traffic, and the replica holding the PBX's event stream killed with SIGKILL twice
// during calls. A standby takes the stream over each time (its lease runs out after REPLICA_LEASE_MS,
// 3 s here: replica-harness.ts); the test
// checks the webhooks against the simulator's ground truth: nothing lost, each call's events in
// order (the time between the kill and the take-over is a blind window: calls that ended in it owe
// their final call-ended event, from the call log). Take-over times are printed, not asserted
// beyond "it happened" (bench/ measures speed). No fixed sleeps: each kill waits until calls are
// in progress (and some have ended since the last take-over), every later step on its condition.
import t from 'tap'
import pg from 'pg'
import { createSimulator } from '../../src/sim/simulator.js'
import { startReceiver } from '../webhooks/receiver.js'
import { checkDeliveries, describeFindings, type BlindWindow } from '../faults/lib/ground-truth.js'
import { testDatabase } from '../store/pg/pg-test-db.js'
import { metric as metricOf, readyz as readyzOf, REPLICA_KEY as KEY, replicaEnv, spawnReplica as spawnChild, stopReplicas, waitUntil, type Replica } from './replica-harness.js'

const GRACE_MS = 300

interface Stream { role: string, holder: string | null, replica: string }

t.setTimeout(240_000)
t.test('three replicas, the stream holder killed twice during calls: nothing lost, every call in order', async (t) => {
  const databaseUrl = await testDatabase(t)
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 })
  t.teardown(async () => { await db.end() })
  const sim = await createSimulator({ seed: 11 })
  t.teardown(() => sim.close())
  const rx = await startReceiver()
  t.teardown(() => rx.close())
  const dirs = t.testdir({ r1: {}, r2: {}, r3: {} })

  const spawnReplica = async (name: string): Promise<Replica> => await spawnChild(name, {
    ...replicaEnv({ dataDir: `${dirs}/${name}`, databaseUrl, graceMs: GRACE_MS, webhookUrl: rx.url }),
    PBX_URL: sim.url, PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'sim-secret'
  })
  const replicas = await Promise.all(['r1', 'r2', 'r3'].map(spawnReplica))
  t.teardown(async () => { await stopReplicas(replicas) })
  const alive = new Set(replicas)

  const readyz = async (r: Replica): Promise<{ stream: Stream, checks: Record<string, { ok: boolean }> } | null> => await readyzOf(r)
  /** The live replica holding the stream with its WebSocket up, once there is one. */
  const holder = async (ms: number): Promise<Replica> => {
    let found: Replica | null = null
    const holds = async (): Promise<boolean> => {
      for (const r of alive) {
        const z = await readyz(r)
        if (z?.stream.role === 'holder' && z.checks.websocket?.ok) found = r
      }
      return found !== null
    }
    await waitUntil(`a replica to take the stream within ${ms} ms`, ms, holds, alive)
    return found as unknown as Replica
  }
  const waitFor = async (what: string, ms: number, probe: () => Promise<boolean>): Promise<void> => { await waitUntil(what, ms, probe, [current]) }

  let current = await holder(20_000)
  const others = [...alive].filter((r) => r !== current)
  for (const r of others) t.match((await readyz(r))?.stream, { role: 'standby', holder: (await readyz(current))?.stream.replica }, `${r.name} is a standby naming the holder`)

  const traffic = await fetch(`${sim.url}/_sim/traffic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ callsPerSecond: 3, seconds: 24, seed: 5, maxRingMs: 1500, maxTalkMs: 3000, recordShare: 0 })
  })
  t.equal(traffic.status, 202, 'traffic started')

  const blind: BlindWindow[] = []
  const takeovers: number[] = []
  const endedCalls = (): number => sim.ctx.engine.records().filter((r) => r.status === 'ended').length
  for (const endedBefore of [15, 6]) {
    // Killed during calls: some have ended since the start (or the last take-over), some are going on.
    const endedAt = endedCalls()
    await waitFor('calls to kill the holder during', 30_000, async () => endedCalls() >= endedAt + endedBefore && sim.ctx.engine.activeCalls() >= 2)
    const killed = current
    const from = Date.now()
    killed.child.kill('SIGKILL')
    await killed.exited
    alive.delete(killed)
    current = await holder(30_000)
    const took = Date.now() - from
    takeovers.push(took)
    blind.push({ kind: 'amnesia', from, to: Date.now() })
    t.comment(`SIGKILL of ${killed.name}: ${current.name} took the stream over after ${took} ms`)
  }
  t.equal(takeovers.length, 2, `two take-overs (${takeovers.map((ms) => (ms / 1000).toFixed(1)).join(' s, ')} s)`)
  // Then calls the last holder sees from start to end, enough calls in all, and the traffic stopped
  // (not run out: its 24 s are an upper bound, for a slow machine).
  const endedAt = endedCalls()
  await waitFor('calls after the last take-over', 30_000, async () => endedCalls() >= endedAt + 10 && sim.ctx.engine.records().length >= 45)
  const stopped = await fetch(`${sim.url}/_sim/traffic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stop: true }) })
  t.equal(stopped.status, 200, 'traffic stopped')

  // Traffic over, every call ended (grace periods over), calls never seen recovered from the call log, the outbox drained.
  await waitFor('the traffic to end', 60_000, async () => !((await (await fetch(`${sim.url}/_sim/traffic`)).json()) as { running: boolean }).running && sim.ctx.engine.activeCalls() === 0)
  const inProgress = async (): Promise<number | undefined> => (await (await fetch(`${current.url}/pbx.ac.get`, { headers: { 'x-api-key': KEY } })).json() as { count?: number }).count
  const metric = async (name: string): Promise<number> => await metricOf(current, name)
  // No call in progress is not every end announced: an end waits out its grace period (or the PBX's
  // record) after the legs are gone; the outbox is read only once the holder owes no call-ended event.
  await waitFor('the holder to end every call', 60_000, async () => (await inProgress()) === 0 && (await metric('gateway_call_ends_owed')) === 0)
  await waitFor('calls never seen to be recovered', 60_000, async () => (await metric('gateway_unseen_calls')) === 0)
  const open = async (): Promise<number> => Number((await db.query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status != 'done'")).rows[0].n)
  // Every delivery done: the receiver has answered (and recorded) each one.
  await waitFor('the shared outbox to drain', 60_000, async () => (await open()) === 0 && (await metric('gateway_outbox_depth')) === 0)

  const hooks = rx.received.map((r) => ({ webhookId: String(r.headers['webhook-id'] ?? ''), at: r.at, body: JSON.parse(r.body) as Record<string, unknown> }))
  const records = sim.ctx.engine.records()
  const report = checkDeliveries(records, hooks, { blind, graceMs: GRACE_MS, marginMs: 300 })
  t.comment(`${report.calls} calls (${report.fullyChecked} fully checked, ${report.unobservable} ended unseen); received ${report.received} (${report.unique} unique, ${report.duplicates} duplicates, ${report.reDerived} re-derived); take-overs ${takeovers.join(', ')} ms`)
  t.ok(report.calls >= 40 && report.fullyChecked >= 10, `enough calls checked (${report.calls}, ${report.fullyChecked} fully)`)
  t.same(report.lost, [], `no event lost${report.lost.length > 0 ? `:\n${describeFindings(report.lost)}` : ''}`)
  t.same(report.outOfOrder, [], `every call's events in order${report.outOfOrder.length > 0 ? `:\n${describeFindings(report.outOfOrder)}` : ''}`)
  t.same(report.wrong, [], `no wrong event${report.wrong.length > 0 ? `:\n${describeFindings(report.wrong)}` : ''}`)
  t.equal(await inProgress(), 0, 'no phantom call left on the holder (nor back after the recoveries)')
})
