// Storage health: a failed write makes the file's problem known at once; it is declared over only
// after writes succeed and none has failed for the settle time (a nearly full disk lets a small write
// through now and then, and /readyz must not flap with it).
import t from 'tap'
import { DEFAULT_SETTLE_MS, StorageHealth, storageHealthOf } from '../src/storage-health.js'

const FULL = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })

function health (settleMs?: number): { h: StorageHealth, clock: { now: number }, infos: string[] } {
  const clock = { now: 1_000_000 }
  const infos: string[] = []
  const h = new StorageHealth('/data/gateway.db', { now: () => clock.now, ...(settleMs !== undefined ? { settleMs } : {}) })
  h.log = { error: () => {}, info: (_o, msg) => { infos.push(String(msg)) } }
  return { h, clock, infos }
}

t.test('recovery is declared only after the settle time without a failure (default 2 s)', async (t) => {
  const { h, clock, infos } = health()
  t.equal(h.settleMs, DEFAULT_SETTLE_MS)
  t.equal(DEFAULT_SETTLE_MS, 2000)
  h.failed('call state', FULL)
  h.ok()
  t.not(h.problem, null, 'one good write right after a failure is not a recovery')
  t.match(h.readiness(), /cannot write \/data\/gateway.db .*SQLITE_FULL/)
  clock.now += 1500
  h.failed('outbox', FULL) // the disk is still full: the settle time starts again
  clock.now += 1500
  h.ok()
  t.not(h.problem, null, '1.5 s after the last failure')
  clock.now += 499
  t.not(h.readiness(), null)
  clock.now += 1
  t.equal(h.readiness(), null, '2 s after the last failure, with a good write since: recovered, without another write')
  t.equal(h.problem, null)
  t.same(infos, ['writing /data/gateway.db works again after 2 failed writes'], 'the recovery is logged once')
})

t.test('without a good write the problem stays, however long it has been', async (t) => {
  const { h, clock } = health()
  h.failed('call state', FULL)
  clock.now += 60_000
  t.not(h.problem, null)
})

t.test('settle time 0: the first good write clears the problem', async (t) => {
  const { h } = health(0)
  h.failed('call state', FULL)
  t.not(h.problem, null)
  h.ok()
  t.equal(h.problem, null)
})

t.test('a damaged file stays reported whatever succeeds later', async (t) => {
  const { h, clock } = health(0)
  h.failed('outbox', Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }))
  clock.now += 10_000
  h.ok()
  t.match(h.readiness(), /is damaged/)
})

t.test('storageHealthOf: one per connection; settleMs sets the shared one', async (t) => {
  const db = { name: '/x/gateway.db' }
  const a = storageHealthOf(db)
  t.equal(a.settleMs, DEFAULT_SETTLE_MS)
  t.equal(storageHealthOf(db, { settleMs: 0 }), a)
  t.equal(a.settleMs, 0)
  t.not(storageHealthOf({ name: '/x/gateway.db' }), a, 'another connection has its own')
})
