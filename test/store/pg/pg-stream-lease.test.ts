// The stream lease on PostgreSQL: one holder per PBX id, a standby takes over when the holder gives
// the lease back or stops renewing it, and a holder cut off from the database learns it lost the
// lease when it can read it again.
import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgStreamLease } from '../../../src/store/pg/pg-stream-lease.js'
import { until } from '../../webhooks/helpers.js'
import { proxiedDatabase } from './pg-test-db.js'

const timing = { leaseMs: 600, renewMs: 100 }

t.test('one holder per PBX id; a standby takes a given-back or expired lease; the cut-off holder hears it lost it', async (t) => {
  const { url, direct, proxy } = await proxiedDatabase(t)
  const viaProxy = createPgStore(url, { connectTimeoutMs: 500 })
  const straight = createPgStore(direct)
  t.teardown(async () => { await viaProxy.close(); await straight.close() })
  await migratePg(straight.pool, straight.name)

  const events: string[] = []
  const a = new PgStreamLease(viaProxy, { ...timing, replica: 'a' })
  const b = new PgStreamLease(straight, { ...timing, replica: 'b' })
  const other = new PgStreamLease(straight, { ...timing, replica: 'c', pbxId: 'tenant-2' })
  t.teardown(async () => { await a.stop(); await b.stop(); await other.stop() })
  await a.start({ acquired: () => { events.push('a acquired') }, lost: (h) => { events.push(`a lost to ${h ?? '?'}`) } })
  await b.start({ acquired: () => { events.push('b acquired') }, lost: (h) => { events.push(`b lost to ${h ?? '?'}`) } })
  await other.start({ acquired: () => { events.push('c acquired tenant-2') }, lost: () => {} })
  t.same(events, ['a acquired', 'c acquired tenant-2'], 'the first replica holds the stream; another PBX id has a lease of its own')
  t.match(b.status, { role: 'standby', holder: 'a', pbxId: 'default' })
  t.match(a.status, { role: 'holder', holder: 'a' })
  await new Promise((resolve) => setTimeout(resolve, 3 * timing.leaseMs))
  t.equal(b.status.role, 'standby', 'renewed leases are not taken over')

  // The holder is cut off from the database: it keeps the stream (nobody can prove otherwise to it),
  // the standby takes the lease once it has run out.
  const cut = Date.now()
  await proxy.down()
  await until(() => events.includes('b acquired'), 5000)
  const took = Date.now() - cut
  t.ok(took >= timing.leaseMs - 150, `not before the lease ran out (${took} ms)`)
  t.equal(a.status.role, 'holder', 'the cut-off holder cannot know yet')
  await proxy.up()
  await until(() => events.includes('a lost to b'), 5000)
  t.match(a.status, { role: 'standby', holder: 'b' })

  // Given back at shutdown: taken over at the standby's next try, not after the lease.
  const given = Date.now()
  await b.stop()
  await until(() => events.includes('a acquired'), 3000)
  t.ok(Date.now() - given < timing.leaseMs, `a given-back lease is taken at once (${Date.now() - given} ms)`)
})
