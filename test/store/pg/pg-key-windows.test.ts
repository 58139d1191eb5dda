// The per-key limit across replicas (issue 20): two replicas' counters on one database count into
// the same window; each refuses once the totals it learned plus its own requests reach the limit.
import t from 'tap'
import { createPgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgKeyWindows } from '../../../src/store/pg/pg-key-windows.js'
import { SharedWindowCounter, type KeyWindowStore } from '../../../src/plugins/app/shared-window-counter.js'
import { testDatabase } from './pg-test-db.js'

const MINUTE = 60_000

t.test('two replicas share one window per key: the limit holds for their sum, within one flush', async (t) => {
  const url = await testDatabase(t)
  const stores = [createPgStore(url), createPgStore(url)]
  t.teardown(async () => { for (const s of stores) await s.close() })
  await migratePg(stores[0].pool, stores[0].name)
  let now = 100 * MINUTE + 5_000
  const clock = (): number => now
  const [a, b] = stores.map((s) => new SharedWindowCounter(new PgKeyWindows(s.pool), { max: 10, windowMs: MINUTE, now: clock }))
  const hits = (c: SharedWindowCounter, n: number, key = 'key#1'): number[] => Array.from({ length: n }, () => c.hit(key))

  t.same(hits(a, 6), [0, 0, 0, 0, 0, 0])
  await a.flush()
  t.same(hits(b, 4), [0, 0, 0, 0], 'b has learned nothing yet: the slack of one flush')
  await b.flush()
  t.same(hits(b, 1), [55], 'b learned 10 in the window: over, retry when it ends (55 s)')
  t.same(hits(b, 1, 'key#2'), [0], 'another key has its own count')
  await b.flush()
  t.same(hits(a, 1), [0], 'a knows only its own 6 until it flushes: the slack of one flush')
  await a.flush()
  t.same(hits(a, 1), [55], 'after its flush a knows every replica\'s requests')
  await a.flush()
  const row = await stores[0].pool.query<{ count: string }>("SELECT count FROM key_request_windows WHERE key_id = 'key#1'")
  t.equal(Number(row.rows[0].count), 13, 'every request counted once in the shared window (refused ones too)')

  now += MINUTE
  t.same(hits(a, 1), [0], 'the next window starts from nothing')
  t.same(hits(b, 1), [0])
})

t.test('a store that cannot be written: the counts are kept, sent with the next flush, and reported once', async (t) => {
  let down = true
  const added: number[] = []
  const store: KeyWindowStore = {
    add: async (_w, counts) => {
      if (down) throw new Error('connection refused')
      added.push(counts.get('k') ?? 0)
      return new Map([['k', added.reduce((x, y) => x + y, 0)]])
    }
  }
  const errors: unknown[] = []
  const c = new SharedWindowCounter(store, { max: 3, windowMs: MINUTE, now: () => 0, onError: (e) => errors.push(e) })
  t.same([c.hit('k'), c.hit('k')], [0, 0])
  await c.flush()
  await c.flush()
  t.equal(errors.length, 1, 'one report per outage')
  t.same([c.hit('k'), c.hit('k')], [0, 60], 'the replica still limits on its own requests')
  down = false
  await c.flush()
  t.same(added, [4], 'nothing lost')
  t.same(c.hit('k'), 60)
})
