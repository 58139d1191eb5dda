// The call state's SQLite adapter on a full disk (real SQLITE_FULL via max_page_count): writes never
// throw; the latest state of each call waits in memory and is written once the file takes it.
import t from 'tap'
import { openDatabase } from '../../src/store/database.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import { storageHealthOf } from '../../src/storage-health.js'
import type { StoredCall } from '../../src/calls/call-ports.js'
import { tempDir } from '../webhooks/helpers.js'
import { fillDisk, freeDisk } from './full-disk.js'

/** A state of `kb` KB: each version larger than the last, so writing it needs new pages. */
function call (callid: number, version: string, kb = 20): StoredCall {
  return { callid, chid: `chid-${callid}`, state: { version, pad: 'y'.repeat(kb * 1000) } as never }
}

async function until (what: string, probe: () => boolean): Promise<void> {
  const end = Date.now() + 5000
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const versions = async (store: SqliteCallStateStore): Promise<Record<number, string>> =>
  Object.fromEntries((await store.loadAll()).map((c) => [c.callid, (c.state as unknown as { version: string }).version]))

t.test('on a full disk the latest state per call waits in memory and is written when space returns', async (t) => {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { db.close() })
  const health = storageHealthOf(db, { settleMs: 0 })
  const store = new SqliteCallStateStore(db, { retryMs: 20 })
  t.equal(store.write([call(1, 'v1'), call(2, 'v1')], []), true)
  fillDisk(db)
  t.equal(store.write([call(1, 'v2', 40)], []), false, 'not on disk, not thrown')
  t.equal(store.write([call(1, 'v3', 60), call(3, 'v1')], [2]), false)
  t.equal(store.waitingCount, 3, 'one entry per call: the latest state (or its removal)')
  t.match(health.readiness(), /SQLITE_FULL.*call state/)
  t.same(await versions(store), { 1: 'v1', 2: 'v1' }, 'the file still has what it had')
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.ok((health.failures.get('call state') ?? 0) >= 3, 'retried while the disk is full')
  freeDisk(db)
  await until('the retry to write the waiting states', () => store.waitingCount === 0)
  t.same(await versions(store), { 1: 'v3', 3: 'v1' }, 'the latest state of each call, and the removal')
  t.equal(health.problem, null, 'recovered')
})

t.test('a state written in a transaction that rolls back waits and is written again', async (t) => {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { db.close() })
  const store = new SqliteCallStateStore(db, { retryMs: 20 })
  t.throws(() => store.atomically(() => {
    t.equal(store.write([call(7, 'v1')], []), true, 'written inside the transaction')
    throw new Error('a later write of the transaction failed')
  }))
  t.equal(store.waitingCount, 1, 'the rollback took it off the disk: it waits again')
  await until('the retry', () => store.waitingCount === 0)
  t.same(await versions(store), { 7: 'v1' })
})

t.test('the retries end when the file is closed (the gateway stopping)', async (t) => {
  const db = openDatabase(tempDir(t))
  const store = new SqliteCallStateStore(db, { retryMs: 20 })
  fillDisk(db)
  t.equal(store.write([call(1, 'v1')], []), false)
  db.close()
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.equal(store.waitingCount, 1, 'nothing thrown by the timer; the state is lost with the process')
})
