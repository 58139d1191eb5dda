// The outbox port on PostgreSQL as the gateway uses it: enqueue is write-behind; while the database
// is away events wait in memory (bounded, then refused and counted), /readyz says so, and they are
// written and handed to delivery once it is back; a stop with events still waiting says they are lost.
import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgOutboxStore } from '../../../src/store/pg/pg-outbox-store.js'
import type { DeliveryJob } from '../../../src/webhooks/outbox-store.js'
import { ringing, target, until } from '../../webhooks/helpers.js'
import { proxiedDatabase } from './pg-test-db.js'

t.test('events wait in memory while PostgreSQL is away, are refused past maxHeld, and are written when it is back', async (t) => {
  const { url, direct, proxy } = await proxiedDatabase(t)
  const setup = createPgStore(direct)
  t.teardown(setup.close)
  await migratePg(setup.pool, setup.name)
  // A delivery left from a previous run, and a target disabled by a 410 then.
  const before = new PgOutboxStore(setup, { targets: [target('crm', 'http://127.0.0.1:1/')] })
  await before.outbox.enqueueMany([ringing(1, 1)])
  await before.outbox.disableTarget('old', '410 Gone')

  const store = createPgStore(url, { settleMs: 0, connectTimeoutMs: 500 })
  t.teardown(store.close)
  const outbox = new PgOutboxStore(store, { targets: [target('crm', 'http://127.0.0.1:1/')], maxHeld: 3, retryMs: 50 })
  const lines: string[] = []
  outbox.log = { error: (_o, m) => { lines.push(String(m)) }, info: () => {} }
  await outbox.open()
  outbox.enqueue(ringing(1, 2))
  await until(() => outbox.heldCount === 0)
  t.same(outbox.pendingJobs('crm').map((j) => j.chain).length, 2, 'what was pending at start, and what was written before the scheduler asked, is handed over once')
  t.same(outbox.pendingJobs('crm'), [])
  t.same([...outbox.disabledTargets().keys()], ['old'])
  t.same(outbox.depth(), { crm: { pending: 2, failed: 0 } })
  t.equal(outbox.depthTotal(), 2, 'the console\'s outbox depth: pending deliveries plus events held in memory')
  const jobs: DeliveryJob[] = []
  outbox.onEnqueue((js) => { jobs.push(...js) })

  await proxy.down()
  t.same(outbox.enqueueMany([ringing(2, 1), ringing(2, 2)]), [], 'no ids yet: the events are written behind')
  t.equal(outbox.enqueue(ringing(2, 3)), undefined)
  outbox.enqueue(ringing(2, 4))
  t.equal(outbox.refused, 1, 'past maxHeld an event is refused and counted')
  t.match(lines.join('\n'), /new call events are REFUSED/)
  t.equal(outbox.heldCount, 3)
  await until(() => store.health.problem !== null, 5000)
  t.match(await outbox.readiness(), /cannot reach postgres:\/\/postgres@127\.0\.0\.1:\d+\/gw_test_\w+ .*; 3 call events wait in memory/)

  await proxy.up()
  await until(() => jobs.length === 3, 10_000)
  t.same(jobs.map((j) => j.chain), [ringing(2, 1).chain, ringing(2, 2).chain, ringing(2, 3).chain])
  t.ok(jobs[0].id < jobs[1].id && jobs[1].id < jobs[2].id, 'written in the order handed over')
  t.equal(outbox.heldCount, 0)
  t.equal(await outbox.readiness(), null)
  const event = await outbox.loadEvent(jobs[0].eventId)
  t.equal(event?.payload.callerid, '1')
  t.equal(await outbox.settle({ ...jobs[0], attempts: 1 }, { at: 1, statusCode: 200, durationMs: 1, error: null, excerpt: null }, 'done', 1), true)
  t.same((await outbox.attempts(jobs[0].id)).length, 1)
  t.same((await outbox.list({ status: 'pending' })).length, 4)
  const again = await outbox.redeliver(jobs[0].id)
  t.equal(again?.id, jobs[0].id)
  t.equal(jobs.at(-1)?.id, jobs[0].id, 'a redelivered job is handed to delivery')
  outbox.disableTarget('crm', '410 Gone')
  t.ok(outbox.disabledTargets().has('crm'))
  outbox.enableTarget('crm')
  t.notOk(outbox.disabledTargets().has('crm'))
  t.equal(await outbox.prune(Date.now() + 1), 0)

  await proxy.down()
  outbox.enqueue(ringing(3, 1))
  await outbox.close()
  t.match(lines.join('\n'), /stopping with 1 call events that could not be written to postgres:\/\/.*: they are lost/)
})
