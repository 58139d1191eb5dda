// Issue 20's fault scenario, for real: 20 tenants (TENANTS_FILE), each on its own simulator with
// traffic, served by replicas on a PostgreSQL cluster of the test's own. Two replicas start, a third
// joins (the tenants spread 7/7/6, given back gracefully during calls), then one replica is killed
// with SIGKILL, then another (the survivors take the dead one's tenants over: take-over times
// printed), then the database is crashed (pg_ctl -m immediate) and started again while the last
// replica holds every stream. The webhooks are checked per tenant against its simulator's ground
// truth: nothing lost, each call's events in order, duplicates counted (at-least-once).
import t from 'tap'
import pg from 'pg'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import { startReceiver } from '../webhooks/receiver.js'
import { checkDeliveries, describeFindings, type BlindWindow, type Finding } from '../faults/lib/ground-truth.js'
import { missing, ownCluster } from '../../bench/pg-cluster.js'
import { catchUpWindows } from '../faults/lib/catch-ups.js'
import { replicaEnv, spareReplica, spawnReplica, stopReplicas, waitUntil, readyz, type Replica } from './replica-harness.js'

const TENANTS = 20
const GRACE_MS = 300
const clock = (): string => new Date().toISOString().slice(11, 23)
const ids = Array.from({ length: TENANTS }, (_, i) => `t${i}`)

interface TenantReport { checks: Record<string, { ok: boolean }>, stream: { role: string, replica: string } }
interface FrontReady { tenants: Record<string, TenantReport>, replicas?: { live: string[], holding: number, quota: number } }

t.setTimeout(280_000)
t.test('20 tenants on 3 replicas: join, two SIGKILLs, a database restart; nothing lost, in order', { skip: missing() ?? false }, async (t) => {
  // The database cluster (initdb, start), the simulators and the receiver are made at the same time.
  const simsMade = Promise.all(ids.map(async (_, i) => await createSimulator({ seed: 100 + i })))
  const rxMade = startReceiver()
  t.teardown(async () => { await Promise.all((await simsMade.catch(() => [])).map(async (s) => { await s.close() })) })
  t.teardown(async () => { await (await rxMade.catch(() => null))?.close() })
  const [cluster, sims, rx] = await Promise.all([ownCluster(t, { max_connections: '800' }), simsMade, rxMade])
  const db = new pg.Pool({ connectionString: cluster.url, max: 2 })
  db.on('error', () => {})
  t.teardown(async () => { await db.end() })
  const tenantsYaml = 'tenants:\n' + ids.map((id, i) => `  - id: ${id}
    pbx: { url: '${sims[i].url}', clientId: '599', clientSecret: sim-secret }
    keys: [{ key: key-of-tenant-${id}-0123456789, scope: control }]
    webhooks: [{ name: crm, url: '${rx.url}/${id}', secret: '${'whsec_' + Buffer.alloc(32, 7).toString('base64')}' }]
`).join('')
  const dir = t.testdir({ 'tenants.yaml': tenantsYaml, r1: {}, r2: {}, r3: {} })
  const env = (name: string): Record<string, string> => ({
    ...replicaEnv({ dataDir: `${dir}/${name}`, databaseUrl: cluster.url, graceMs: GRACE_MS }),
    TENANTS_FILE: `${dir}/tenants.yaml`
  })
  const spawn = async (name: string): Promise<Replica> => await spawnReplica(name, env(name), 90_000)
  const replicas: Replica[] = []
  t.teardown(async () => { await stopReplicas(replicas) })
  // The replica that joins later loads its code now, while the first two start: its join is then its own start on the tenants.
  const joiner = spareReplica('r3', env('r3'), 90_000)
  t.teardown(() => { if (joiner.child.exitCode === null && joiner.child.signalCode === null && !replicas.some((r) => r.child === joiner.child)) joiner.child.kill('SIGKILL') })
  const live = (): Replica[] => replicas.filter((r) => r.alive())

  // A tenant handed from one replica to another is not watched for a moment (the old stream stopped,
  // the new one not yet open): a blind window of the `gap` kind, as a WebSocket reconnect is. Each
  // rebalance is one window, from its start to the even spread, for every tenant that moved in it.
  const blind = new Map<string, BlindWindow[]>(ids.map((id) => [id, []]))
  let lastHolders = new Map<string, Replica>()
  const rebalanced = async (what: string, from: number): Promise<string[]> => {
    const before = lastHolders
    await waitUntil(what, 60_000, balanced, live())
    const moved = ids.filter((id) => before.get(id) !== undefined && before.get(id) !== lastHolders.get(id) && before.get(id)?.alive() === true)
    for (const id of moved) blind.get(id)?.push({ kind: 'gap', from, to: Date.now() })
    return moved
  }
  /** Tenant → the live replica holding its stream with the WebSocket up. */
  const holders = async (): Promise<Map<string, Replica>> => {
    const out = new Map<string, Replica>()
    for (const r of live()) {
      const z = await readyz<FrontReady>(r)
      for (const [id, rep] of Object.entries(z?.tenants ?? {})) if (rep.stream.role === 'holder' && rep.checks.websocket?.ok) out.set(id, r)
    }
    return out
  }
  const counts = (h: Map<string, Replica>): number[] => live().map((r) => [...h.values()].filter((x) => x === r).length)
  let lastCounts: number[] = []
  const balanced = async (): Promise<boolean> => {
    const h = await holders()
    const n = live().length
    lastCounts = counts(h)
    lastHolders = h
    return h.size === TENANTS && lastCounts.every((c) => c >= Math.floor(TENANTS / n) && c <= Math.ceil(TENANTS / n))
  }

  const began = Date.now()
  replicas.push(...await Promise.all([spawn('r1'), spawn('r2')]))
  t.comment(`r1 and r2 started in ${Date.now() - began} ms`)
  await waitUntil('two replicas holding every tenant, evenly', 60_000, balanced, replicas)
  t.comment(`two replicas: ${lastCounts.join('/')}`)

  // One call on every PBX first: a gateway counts a PBX's calls from the first it sees, so the very
  // first call of a brand-new PBX, made while nobody watches, is beyond recovery (docs/operating.md).
  // It talks for seconds: 40 streams starting on a loaded machine fell 2.4 s behind their participant
  // fetches and caught up by a snapshot, which a call of 0.9 s had already left (a run on 2026-12-07).
  const hooksOf = (id: string): number => rx.received.filter((r) => r.url === `/hook/${id}` && (JSON.parse(r.body) as { event?: string }).event === 'incoming').length
  const oneCallEach = async (what: string): Promise<void> => {
    const before = ids.map(hooksOf)
    const placed = await Promise.all(sims.map(async (s) => (await fetch(`${s.url}/_sim/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557650000', to: '+15550101', answer: '101', ringMs: 300, talkMs: 6000, hangup: 'caller' })
    })).status))
    t.ok(placed.every((s) => s === 201), `${what}: a call placed on every PBX`)
    let unseen: string[] = []
    await waitUntil(`${what}: the call's events on every tenant`, 60_000, async () => {
      unseen = ids.filter((id, i) => hooksOf(id) <= before[i])
      return unseen.length === 0
    }, live()).catch((err: Error) => { throw new Error(`no incoming webhook from tenant(s) ${unseen.join(', ')}; ${err.message}`) })
  }
  await oneCallEach('before the traffic')

  // Join: the third replica gets its share, handed over while calls go on (traffic starts once it is up,
  // so its start-up, which takes the CPU for a while, is not what the other two are measured against).
  const joinAt = Date.now()
  replicas.push(await joiner.start())
  const up = Date.now()
  t.comment(`r3 started in ${up - joinAt} ms (${clock()})`)
  // Traffic until stopped (after the database restart): each step waits for calls, not for a clock.
  const trafficCall = async (s: Simulator, body: object): Promise<number> => (await fetch(`${s.url}/_sim/traffic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status
  const traffic = await Promise.all(sims.map(async (s, i) => await trafficCall(s, { callsPerSecond: 0.15, seconds: 600, seed: i + 1, maxRingMs: 1200, maxTalkMs: 2500, recordShare: 0 })))
  t.ok(traffic.every((s) => s === 202), `traffic started on every simulator at ${clock()}`)
  const moved = await rebalanced('the tenants spread over three replicas', up)
  const spread = [...lastCounts]
  t.comment(`r3 joined: spread ${spread.join('/')} ${Date.now() - up} ms after it was up; ${moved.length} tenants handed over`)
  t.same(spread.sort(), [6, 7, 7], 'three replicas hold 7, 7 and 6 tenants')

  /** Some calls ended since the last step, some going on. */
  const ended = (): number => sims.reduce((a, s) => a + s.ctx.engine.records().filter((r) => r.status === 'ended').length, 0)
  const duringCalls = async (what: string): Promise<void> => {
    const endedAt = ended()
    await waitUntil(what, 30_000, async () => ended() >= endedAt + 10 && sims.reduce((a, s) => a + s.ctx.engine.activeCalls(), 0) >= 4, live())
  }

  // Two replicas killed in turn: the survivors take the dead one's tenants over.
  const takeovers: number[] = []
  for (const round of [1, 2]) {
    await duringCalls(`calls to kill a replica during (round ${round})`)
    const before = await holders()
    const victim = live().sort((a, b) => counts(before)[live().indexOf(b)] - counts(before)[live().indexOf(a)])[0]
    const orphans = [...before].filter(([, r]) => r === victim).map(([id]) => id)
    const from = Date.now()
    victim.child.kill('SIGKILL')
    await victim.exited
    await waitUntil(`the tenants of ${victim.name} taken over`, 30_000, async () => {
      const h = await holders()
      return orphans.every((id) => h.has(id))
    }, live())
    const took = Date.now() - from
    takeovers.push(took)
    for (const id of orphans) blind.get(id)?.push({ kind: 'amnesia', from, to: Date.now() })
    t.comment(`${clock()} SIGKILL ${round} of ${victim.name} (${orphans.length} tenants): taken over after ${took} ms (target ≤ 10 s: ${took <= 10_000 ? 'met' : 'NOT met'})`)
    const evened = await rebalanced('the survivors to even out', from)
    t.comment(`after the kill: ${lastCounts.join('/')} (${evened.length} more moved to even out)`)
  }
  t.equal(live().length, 1, 'one replica left, holding every tenant')

  // The database crashes and comes back: the replica keeps its streams, holds the events, reconnects.
  await duringCalls('calls to restart the database during')
  const down = Date.now()
  await cluster.crash()
  await cluster.start()
  const downMs = Date.now() - down
  await waitUntil('every tenant ready again after the restart', 30_000, async () => {
    const z = await readyz<FrontReady>(live()[0])
    return z !== null && Object.values(z.tenants).every((r) => r.stream.role === 'holder' && Object.values(r.checks).every((c) => c.ok))
  }, live())
  t.comment(`${clock()} database down ${downMs} ms; every tenant ready ${Date.now() - down} ms after the crash`)
  await duringCalls('calls after the restart')
  t.same(new Set(await Promise.all(sims.map(async (s) => await trafficCall(s, { stop: true })))), new Set([200]), 'traffic stopped')
  // And one more on every PBX: a call never seen is found by the next call's id, so the last one needs a next.
  await waitUntil('the traffic to end', 60_000, async () => sims.every((s) => s.ctx.engine.activeCalls() === 0), live())
  await oneCallEach('after the traffic')

  // Traffic over, every call ended, calls never seen recovered from the call log, every outbox drained.
  const pending = async (): Promise<number> => {
    const q = ids.map((id) => `SELECT COUNT(*)::int AS n FROM tenant_${id}.webhook_deliveries WHERE status != 'done'`).join(' UNION ALL ')
    return (await db.query<{ n: number }>(q)).rows.reduce((a, r) => a + r.n, 0)
  }
  const unseen = async (): Promise<number> => {
    const text = await (await fetch(`${live()[0].url}/metrics`)).text()
    return [...text.matchAll(/^gateway_unseen_calls\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0)
  }
  await waitUntil('calls never seen recovered and every outbox drained', 60_000, async () => (await unseen()) === 0 && (await pending()) === 0, live())

  const lost: Finding[] = []
  const outOfOrder: Finding[] = []
  const wrong: Finding[] = []
  const sum = { calls: 0, fully: 0, received: 0, duplicates: 0 }
  // A replica whose reads fell behind took a catch-up snapshot (its log says so): a `lag` window, as in the fault rig.
  const end = Date.now()
  ids.forEach((id, i) => {
    const caught = replicas.flatMap((r) => r.catchUps().filter((c) => c.tenant === id))
    const snapshots = sims[i].ctx.requestLog.filter((r) => r.method === 'GET' && r.url === '/callcontrol').map((r) => r.at)
    blind.get(id)?.push(...catchUpWindows(caught, snapshots, end))
    if (caught.length > 0) t.comment(`${id}: ${caught.length} catch-up snapshot(s) (its replica's reads fell behind)`)
  })
  ids.forEach((id, i) => {
    const hooks = rx.received.filter((r) => r.url === `/hook/${id}`).map((r) => ({ webhookId: String(r.headers['webhook-id'] ?? ''), at: r.at, body: JSON.parse(r.body) as Record<string, unknown> }))
    const report = checkDeliveries(sims[i].ctx.engine.records(), hooks, { blind: blind.get(id) ?? [], graceMs: GRACE_MS, marginMs: 300 })
    const tag = (f: Finding): Finding => ({ ...f, what: `${id}: ${f.what}` })
    lost.push(...report.lost.map(tag))
    outOfOrder.push(...report.outOfOrder.map(tag))
    wrong.push(...report.wrong.map(tag))
    sum.calls += report.calls
    sum.fully += report.fullyChecked
    sum.received += report.received
    sum.duplicates += report.duplicates
  })
  t.comment(`${sum.calls} calls on ${TENANTS} tenants (${sum.fully} fully checked); ${sum.received} webhooks received, ${sum.duplicates} duplicates; lost ${lost.length}, out of order ${outOfOrder.length}, wrong ${wrong.length}; take-overs ${takeovers.join(', ')} ms; database down ${downMs} ms`)
  t.ok(sum.calls >= 60 && sum.fully >= 20, `enough calls checked (${sum.calls}, ${sum.fully} fully)`)
  t.same(lost, [], `no event lost${lost.length > 0 ? `:\n${describeFindings(lost)}` : ''}`)
  t.same(outOfOrder, [], `every call's events in order${outOfOrder.length > 0 ? `:\n${describeFindings(outOfOrder)}` : ''}`)
  t.same(wrong, [], `no wrong event${wrong.length > 0 ? `:\n${describeFindings(wrong)}` : ''}`)
})
