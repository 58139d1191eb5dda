// What the call-state, unseen-calls and state-origin adapters must do (SQLite and PostgreSQL), run by
// test/store/sqlite-call-state-contract.test.ts and test/store/pg/pg-call-state.test.ts. `flush`
// waits for PostgreSQL's write-behind (nothing to wait for on SQLite); `reopen` is a restart.
import type { Test } from 'tap'
import type { CallStateStore, UnseenCallStore } from '../../src/calls/call-ports.js'
import type { CallTrackerState } from '../../src/calls/derivation/tracker-state.js'
import type { StateOriginStore } from '../../src/state-origin.js'

export interface CallStores {
  calls: CallStateStore
  unseen: UnseenCallStore
  origin: StateOriginStore
  flush: () => Promise<void>
}

export interface OpenCallStores {
  open: () => Promise<CallStores>
}

const state = (n: number): CallTrackerState => ({ sample: n, legs: [{ dn: '101', announced: true }] }) as unknown as CallTrackerState

export function callStateContract (t: Test, make: (t: Test) => Promise<OpenCallStores>): void {
  t.test('call states survive a restart; the latest write of a call wins; removed calls are gone', async (t) => {
    const s = await make(t)
    const a = await s.open()
    t.same(await a.calls.loadAll(), [])
    t.equal(a.calls.write([{ callid: 7, chid: 'c7', state: state(1) }, { callid: 8, chid: 'c8', state: state(1) }], []), true)
    t.equal(a.calls.atomically(() => a.calls.write([{ callid: 7, chid: 'c7', state: state(2) }], [8])), true)
    a.calls.write([{ callid: 9, chid: 'c9', state: state(3) }], [])
    await a.flush()
    const b = await s.open()
    t.same(await b.calls.loadAll(), [{ callid: 7, chid: 'c7', state: state(2) }, { callid: 9, chid: 'c9', state: state(3) }])
  })

  t.test('the unseen-calls bookkeeping survives a restart', async (t) => {
    const s = await make(t)
    const a = await s.open()
    t.same(await a.unseen.load(), { highest: null, highestAt: null, missing: [] })
    a.unseen.saveHighest(10, 1000)
    a.unseen.addMissing([{ callid: 4, since: 1000, after: 900 }, { callid: 6, since: 1000, after: 950 }])
    a.unseen.addMissing([{ callid: 4, since: 2000, after: 1900 }])
    a.unseen.saveHighest(12, 1100)
    a.unseen.removeMissing([6])
    await a.flush()
    const b = await s.open()
    t.same(await b.unseen.load(), { highest: 12, highestAt: 1100, missing: [{ callid: 4, since: 1000, after: 900 }] }, 'a gap found twice keeps its first finding')
  })

  t.test('the PBX identity is kept; discarding the PBX state empties calls and unseen calls and says how many', async (t) => {
    const s = await make(t)
    const a = await s.open()
    t.equal(await a.origin.load(), null)
    await a.origin.save({ fqdn: 'pbx.example.com', licenseSha256: 'ab'.repeat(32) })
    await a.origin.save({ fqdn: 'pbx2.example.com', licenseSha256: 'cd'.repeat(32) })
    a.calls.write([{ callid: 1, chid: 'c1', state: state(1) }, { callid: 2, chid: 'c2', state: state(1) }], [])
    a.unseen.saveHighest(5, 10)
    a.unseen.addMissing([{ callid: 3, since: 10, after: 5 }])
    await a.flush()
    const b = await s.open()
    t.same(await b.origin.load(), { fqdn: 'pbx2.example.com', licenseSha256: 'cd'.repeat(32) })
    t.same(await b.origin.discardPbxState(), { calls: 2, unseenCalls: 1, recordings: 0 })
    t.same(await b.calls.loadAll(), [])
    t.same(await b.unseen.load(), { highest: null, highestAt: null, missing: [] })
  })
}
