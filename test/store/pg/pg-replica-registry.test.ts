// The replica registry and the lease rules the spread relies on, on a real database: heartbeats that
// run out drop a replica from the list, leaving removes it at once; a lease given back is taken at
// once by the designated replica and only after the grace by another; a new instance with the id
// of the one that gave it back does not renew it as its own.
import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { openPgReplicaRegistry } from '../../../src/store/pg/pg-replica-registry.js'
import { PgStreamLease } from '../../../src/store/pg/pg-stream-lease.js'
import { until } from '../../webhooks/helpers.js'
import { testDatabase } from './pg-test-db.js'
import { waitUntil } from '../../replicas/replica-harness.js'

t.test('live replicas: a heartbeat keeps a replica listed for its ttl; leave() removes it at once', async (t) => {
  const url = await testDatabase(t)
  const a = await openPgReplicaRegistry(url, { replica: 'gw-a:1', ttlMs: 400 })
  const b = await openPgReplicaRegistry(url, { replica: 'gw-b:2', ttlMs: 400 })
  t.teardown(async () => { await a.close(); await b.close() })
  t.same(await a.heartbeat(), ['gw-a:1'], 'alone')
  t.same(await b.heartbeat(), ['gw-a:1', 'gw-b:2'], 'both, sorted')
  // b stops beating: a sees it gone once its ttl has run out on the database's clock.
  let seen: string[] = []
  await waitUntil('b to drop out', 5000, async () => (seen = await a.heartbeat()).length === 1)
  t.same(seen, ['gw-a:1'], 'a replica whose heartbeat ran out is not listed')
  await b.heartbeat()
  await b.leave()
  t.same(await a.heartbeat(), ['gw-a:1'], 'a replica that left is gone at once')
})

t.test('a lease given back: the designated replica takes it at once, another only after the grace, the same id not as its own', async (t) => {
  const url = await testDatabase(t)
  const store = createPgStore(url)
  t.teardown(async () => { await store.close() })
  await migratePg(store.pool, store.name)
  const timing = { leaseMs: 3000, renewMs: 50 }
  const took: string[] = []
  const lease = (replica: string, graceMs: number): PgStreamLease => new PgStreamLease(store, { ...timing, replica, pbxId: 't1', takeGraceMs: () => graceMs })
  const events = (name: string): { acquired: () => void, lost: () => void } => ({ acquired: () => { took.push(name) }, lost: () => {} })

  const first = lease('gw-a:1', 0)
  await first.start(events('a'))
  const other = lease('gw-c:3', 1500)
  await other.start(events('c (not designated)'))
  await first.stop()
  const again = lease('gw-a:1', 1500)
  await again.start(events('a again (not designated)'))
  const designated = lease('gw-b:2', 0)
  const given = Date.now()
  await designated.start(events('b (designated)'))
  t.teardown(async () => { for (const l of [other, again, designated]) await l.stop() })
  t.same(took, ['a', 'b (designated)'], 'the designated replica took it at once, nobody else did')
  t.ok(Date.now() - given < timing.leaseMs, 'a given-back lease is free at once')

  // b gives it back too, and nobody designated is there: after the grace, one of the others takes it.
  const back = Date.now()
  await designated.stop()
  await until(() => took.length === 3, 5000)
  t.ok(Date.now() - back >= 1400, `another replica waited for the grace (${Date.now() - back} ms)`)
  t.match(took[2], /not designated/)
})
