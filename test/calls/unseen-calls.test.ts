// Gaps in the PBX's call counter (unseen-calls.ts), kept across restarts; and the recovery round
// (call-recovery.ts) that ends them from the call log, gives up on ids that are no calls, and leaves
// calls of DNs the gateway does not monitor alone.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { UnseenCalls } from '../../src/calls/unseen-calls.js'
import { CallRecovery } from '../../src/calls/call-recovery.js'
import { SqliteUnseenCallStore } from '../../src/store/sqlite-unseen-calls.js'
import { openDatabase } from '../../src/store/database.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'

const ids = (u: UnseenCalls, now = 1e9): number[] => u.due(now, 0, 1000).map((m) => m.callid)

t.test('gaps in the counter are missing calls; seen late, they are not', async (t) => {
  const u = new UnseenCalls()
  u.note(100, 1000)
  u.note(101, 1001)
  t.same(ids(u), [])
  u.note(105, 2000)
  t.same(ids(u), [102, 103, 104])
  t.same(u.due(2000, 0, 10)[0], { callid: 102, since: 2000, after: 1001 }, 'began after the last call seen before the gap')
  t.same(u.due(2500, 1000, 10), [], 'not due before the settle time')
  u.note(103, 2100) // a call still being fetched when the next one was seen
  t.same(ids(u), [102, 104])
  u.resolve([102])
  t.equal(u.size, 1)
  u.note(-1, 0)
  u.note(Number.NaN, 0)
  t.equal(u.size, 1, 'garbage ids are ignored')
})

t.test('a first snapshot sets the baseline; a PBX restart begins a new count; huge gaps are capped', async (t) => {
  const u = new UnseenCalls({ maxGap: 5, log: { warn: () => {} } })
  u.baseline([50, 40, 45], 0)
  for (const id of [40, 45, 50]) u.note(id, 0)
  t.same(ids(u), [], 'calls that ended before the gateway first looked are not missing')
  u.baseline([10], 0)
  u.note(1000, 10)
  t.same(ids(u), [995, 996, 997, 998, 999], 'only the last maxGap ids')
  u.resolve(ids(u))
  u.note(7, 20)
  u.note(8, 21)
  t.same(ids(u), [], 'the counter began again')
})

t.test('the bookkeeping survives a restart (SQLite)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-unseen-'))
  const db = openDatabase(dir)
  t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const loaded = async (): Promise<UnseenCalls> => {
    const u = new UnseenCalls({ store: new SqliteUnseenCallStore(db) })
    await u.load()
    return u
  }
  const first = await loaded()
  first.note(10, 1000)
  first.note(13, 2000)
  first.resolve([11])
  t.same((await loaded()).due(1e9, 0, 10).map((m) => m.callid), [10, 12, 13], 'calls 10 and 13 are not on disk yet: a restart would look them up')
  first.persisted(10)
  first.persisted(13) // the model wrote their state
  const second = await loaded()
  t.same(second.due(1e9, 0, 10), [{ callid: 12, since: 2000, after: 1000 }])
  second.note(16, 3000) // calls 14 and 15 happened while it was down
  t.same(ids(second), [12, 14, 15])
  // Killed before the model wrote call 16's state: the next start looks it up instead of losing it.
  const third = await loaded()
  t.same(ids(third), [12, 14, 15, 16])
})

t.test('recovery: looked up in one batch while live; monitored calls announced, others and non-calls dropped', async (t) => {
  let now = 10_000
  const u = new UnseenCalls()
  u.note(1, 0)
  u.note(6, now) // 2..5 missing
  const record = (callid: number, dns: string[]): PbxCallRecord => ({ callid, conversations: [], waitedIn: null, endedAt: 0, dns })
  const lookups: Array<{ low: number, high: number | null, seenFrom: number, until: number }> = []
  const answers = new Map<number, PbxCallRecord>([[2, record(2, ['10000', '101'])], [3, record(3, ['10000', '555'])]])
  let fail = false
  const announced: number[] = []
  let live = false
  const recovery = new CallRecovery({
    unseen: u,
    lookup: async (q) => {
      lookups.push(q)
      if (fail) throw new Error('PBX down')
      return new Map([...answers].filter(([id]) => id >= q.low && (q.high === null || id <= q.high)))
    },
    live: () => live,
    monitored: (dns) => dns.includes('101'),
    recover: (r) => { announced.push(r.callid) },
    settleMs: 1000,
    giveUpMs: 60_000,
    now: () => now,
    log: { warn: () => {} }
  })
  await recovery.tick()
  t.same(lookups, [], 'nothing while the view is not live')
  live = true
  await recovery.tick()
  t.same(lookups, [], 'nothing before the settle time')
  now += 1000
  fail = true
  await recovery.tick()
  t.equal(u.size, 4, 'a failed lookup keeps every id')
  fail = false
  await recovery.tick()
  t.same(lookups.at(-1), { low: 2, high: 5, seenFrom: 0, until: now })
  t.same(announced, [2], 'a call of an unmonitored DN is not announced')
  t.equal(recovery.recovered, 1)
  t.same(ids(u), [4, 5], 'ids the log does not show yet are kept')
  now += 60_000
  await recovery.tick()
  t.equal(u.size, 0, 'given up after giveUpMs')
  recovery.start()
  await recovery.stop()
})

t.test('after each snapshot the log is asked once for calls above the highest id (a quiet PBX after a restart)', async (t) => {
  let now = 50_000
  const u = new UnseenCalls()
  u.note(20, 1000)
  let syncs = 1
  const lookups: Array<{ low: number, high: number | null }> = []
  const announced: number[] = []
  const rec = (callid: number): PbxCallRecord => ({ callid, conversations: [], waitedIn: null, endedAt: 0, dns: ['101'] })
  const recovery = new CallRecovery({
    unseen: u,
    lookup: async (q) => {
      lookups.push({ low: q.low, high: q.high })
      return new Map([21, 23].filter((id) => id >= q.low && (q.high === null || id <= q.high)).map((id) => [id, rec(id)]))
    },
    live: () => true,
    syncs: () => syncs,
    monitored: () => true,
    recover: (r) => { announced.push(r.callid) },
    settleMs: 1000,
    now: () => now
  })
  await recovery.tick()
  t.same(lookups, [{ low: 21, high: null }], 'the probe')
  t.same(ids(u), [21, 22, 23], 'what it found, and the id between, wait to settle')
  t.same(announced, [])
  await recovery.tick()
  t.equal(lookups.length, 1, 'once per snapshot')
  now += 1000
  await recovery.tick()
  t.same(announced, [21, 23])
  t.same(ids(u), [22], 'an id the log does not show waits for the give-up time')
  syncs++
  await recovery.tick()
  t.same(lookups.at(-2), { low: 24, high: null }, 'probed again after the next snapshot')
})
