// The Call Control test harness's watcher (callcontrol-harness.ts): a read still on its way when the
// simulator closes must not fail the test that used it with an unhandled rejection (route-point.test.ts
// under load: ECONNREFUSED from a read begun after the simulator had closed, 2026-12-07).
import t from 'tap'
import { startCcSim, sleep } from './callcontrol-harness.js'

t.test('an upsert event reaching a watcher after the simulator closed is not read, and fails nothing', async (t) => {
  let watcher: Awaited<ReturnType<Awaited<ReturnType<typeof startCcSim>>['watch']>> | undefined
  await t.test('the simulator', async (t) => {
    const cc = await startCcSim(t)
    watcher = await cc.watch()
  })
  // The simulator and the watcher are closed now (watchers first); an upsert event still reaching the watcher.
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  const w = watcher
  if (w === undefined) throw new Error('no watcher')
  w.ws.emit('message', Buffer.from(JSON.stringify({ sequence: 1, event: { event_type: 0, entity: '/callcontrol/101/participants/1', attached_data: null } })))
  await t.resolves(w.settled(), 'nothing read')
  await sleep(50)
  t.same(unhandled, [], 'no unhandled rejection')
})
