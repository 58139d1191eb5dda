// Delivery on PostgreSQL with several replicas: each gateway's scheduler gets deliveries only by
// claiming them (FOR UPDATE SKIP LOCKED, leased), so replicas sharing one outbox send every event
// once, each call's events in order; a retry stays with the replica that tried it; a delivery claimed
// by a replica that died goes out once its lease has run out. Also: on PostgreSQL a call's state is
// written only after its events (a crash between the two would otherwise lose the events).
import t from 'tap'
import { createPgStore, type PgStore } from '../../src/store/pg/pg-pool.js'
import { migratePg } from '../../src/store/pg/pg-migrations.js'
import { PgOutboxStore } from '../../src/store/pg/pg-outbox-store.js'
import { PgCallStateStore } from '../../src/store/pg/pg-call-state.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import type { WebhookTargetConfig } from '../../src/config.js'
import { FAST, ringing, target, until } from './helpers.js'
import { startReceiver } from './receiver.js'
import { proxiedDatabase, testDatabase } from '../store/pg/pg-test-db.js'

interface Replica { name: string, outbox: PgOutboxStore, delivery: WebhookDelivery, stop: () => Promise<void> }

async function replica (t: { teardown: (fn: () => Promise<void>) => void }, url: string, name: string, targets: WebhookTargetConfig[], claimLimit?: number, config = FAST): Promise<Replica> {
  const store = createPgStore(url, { max: 4 })
  const outbox = new PgOutboxStore(store, { targets, claim: { consumer: name, leaseMs: 3000, pollMs: 100, ...(claimLimit === undefined ? {} : { limit: claimLimit }) } })
  await outbox.open()
  const delivery = new WebhookDelivery({ outbox, config })
  delivery.start()
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await delivery.stop(1000)
    await outbox.close()
    await store.close()
  }
  t.teardown(stop)
  return { name, outbox, delivery, stop }
}

function chainsOf (bodies: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const b of bodies) {
    const p = JSON.parse(b) as { chid: string, callerid: string }
    out.set(p.chid, [...(out.get(p.chid) ?? []), Number(p.callerid)])
  }
  return out
}

t.test('three replicas on one outbox: every event once, each call in order, a retry stays with its replica', async (t) => {
  const url = await testDatabase(t)
  const setup = createPgStore(url)
  t.teardown(setup.close)
  await migratePg(setup.pool, setup.name)
  // Call 3's first attempt fails once: its retry must not be sent by another replica meanwhile.
  let failed = false
  const rx = await startReceiver(0, (r) => {
    const p = JSON.parse(r.body) as { chid: string, callerid: string }
    if (!failed && p.chid.endsWith('_3') && p.callerid === '1') { failed = true; return { status: 503 } }
    return undefined
  })
  t.teardown(rx.close)
  const targets = [target('crm', rx.url)]
  // At most 4 of the 12 calls' chains a claim: with the default (200) one replica whose claim came after
  // every write (a loaded machine) took all 12 at once and the others found nothing (a whole run: 0, 180, 0).
  const replicas = await Promise.all(['r1', 'r2', 'r3'].map(async (n) => await replica(t, url, n, targets, 4)))
  const calls = 12
  const perCall = 15
  // Every replica writes events of its own calls (as a holder would), interleaved.
  for (let seq = 1; seq <= perCall; seq++) {
    for (let c = 1; c <= calls; c++) replicas[c % 3].outbox.enqueue(ringing(c, seq))
    await new Promise((resolve) => setImmediate(resolve))
  }
  const total = calls * perCall
  await rx.waitFor(total, 20_000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(rx.received.length, total, `every event delivered once (${rx.all.length} requests, 1 refused and retried)`)
  t.equal(new Set(rx.received.map((r) => r.body)).size, total, 'no event twice')
  for (const [chid, seqs] of chainsOf(rx.received.map((r) => r.body))) t.same(seqs, Array.from({ length: perCall }, (_, i) => i + 1), `${chid} in order`)
  const by = replicas.map((r) => r.delivery.stats()[0].delivered)
  t.ok(by.filter((n) => n > 0).length >= 2, `the replicas shared the work (delivered: ${by.join(', ')})`)
  const pending = Number((await setup.pool.query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status != 'done'")).rows[0].n)
  t.equal(pending, 0, 'every delivery done in the shared outbox')
})

t.test('a delivery claimed by a replica that died is sent once its lease has run out, then its call goes on in order', async (t) => {
  const url = await testDatabase(t)
  const setup = createPgStore(url)
  t.teardown(setup.close)
  await migratePg(setup.pool, setup.name)
  const rx = await startReceiver()
  t.teardown(rx.close)
  const targets = [target('crm', rx.url)]
  // The dead replica: it wrote call 1's events and claimed the first, then was killed.
  const dead = new PgOutboxStore(setup, { targets })
  await dead.outbox.enqueueMany([ringing(1, 1), ringing(1, 2), ringing(1, 3)])
  const claimed = await dead.outbox.claim('dead', { leaseMs: 1500 })
  t.equal(claimed.length, 1, 'only the head of the call is claimed')
  const at = Date.now()
  const live = await replica(t, url, 'live', targets)
  await rx.waitFor(3, 10_000)
  t.ok(Date.now() - at >= 1200, `not before the dead replica's lease ran out (${Date.now() - at} ms)`)
  t.same(chainsOf(rx.received.map((r) => r.body)).get('261121083716_1'), [1, 2, 3], 'then the whole call, in order')
  await live.stop()
})

t.test('a replica claims only below half a claim of chains being sent; chains waiting for a retry do not count', async (t) => {
  const url = await testDatabase(t)
  const setup = createPgStore(url)
  t.teardown(setup.close)
  await migratePg(setup.pool, setup.name)
  // Calls 1-3 reach a receiver that refuses them: each waits 30 s for its retry.
  const rx = await startReceiver(0, (r) => (JSON.parse(r.body) as { chid: string }).chid.endsWith('_4') ? undefined : { status: 503 })
  t.teardown(rx.close)
  // A claim of at most 4 chains: at 2 being sent it claims no more.
  const one = await replica(t, url, 'r1', [target('crm', rx.url)], 4, { ...FAST, retrySchedule: [30_000] })
  for (let c = 1; c <= 3; c++) one.outbox.enqueue(ringing(c, 1))
  await until(() => rx.all.length === 3, 10_000)
  const at = Date.now()
  one.outbox.enqueue(ringing(4, 1))
  await rx.waitFor(1, 5000)
  t.ok(Date.now() - at < 2000, `a fresh call is sent at once (${Date.now() - at} ms) while three chains wait for their retries`)
  t.equal(rx.all.length, 4, 'and the three are not sent again before their retry')
})

t.test('on PostgreSQL a call state is written with the events handed over with it', async (t) => {
  const { url, direct, proxy } = await proxiedDatabase(t)
  const straight: PgStore = createPgStore(direct)
  const cut: PgStore = createPgStore(url, { connectTimeoutMs: 300, settleMs: 0 })
  t.teardown(async () => { await cut.close(); await straight.close() })
  await migratePg(straight.pool, straight.name)
  // The gateway's connection is cut; the test looks in over another one.
  const outbox = new PgOutboxStore(cut, { targets: [target('crm', 'http://127.0.0.1:1/')], retryMs: 100 })
  const states = new PgCallStateStore(cut, Date.now, 100, outbox.alongside)
  await proxy.down()
  outbox.enqueue(ringing(7, 1))
  states.write([{ callid: 7, chid: '261121083716_7', state: { phase: 'ringing' } as never }], [])
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const rows = async (sql: string): Promise<number> => Number((await straight.pool.query(sql)).rows[0].n)
  t.equal(await rows('SELECT COUNT(*) AS n FROM live_calls'), 0, 'the state waits while its event cannot be written')
  await proxy.up()
  await until(() => outbox.heldCount === 0, 5000)
  t.ok(await states.writes.flush(), 'then it is written')
  t.equal(await rows('SELECT COUNT(*) AS n FROM webhook_events'), 1)
  t.equal(await rows('SELECT COUNT(*) AS n FROM live_calls'), 1)
  states.writes.close()
  await outbox.close()
})
