// Demo mode restarted on the same DATA_DIR: the new in-process simulator numbers its calls and
// recordings from the start again, so nothing the previous run stored may be resumed against it.
import t from 'tap'
import { existsSync } from 'node:fs'
import { Writable } from 'node:stream'
import { loadConfig } from '../src/config.js'
import { startGateway, type RunningGateway } from '../src/server.js'
import { waitFor } from './legacy/legacy-harness.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

function chains (gw: RunningGateway, type: string): string[] {
  return (gw.services.db.prepare('SELECT chain FROM webhook_events WHERE type = ?').pluck().all(type) as string[])
}

t.test('a demo restart on the same DATA_DIR resumes nothing of the previous simulator', async (t) => {
  const dataDir = t.testdir({})
  const env = { PORT: '0', DATA_DIR: dataDir, DEMO_TRAFFIC: '0', CALL_END_GRACE_MS: '200', RECORDINGS_SOURCE: 'xapi', RECORDINGS_SETTLE_MS: '300' }
  const first = await startGateway(loadConfig(env), { logStream: quiet() })
  await first.services.pbx.callControl.ready()
  const runDir = first.services.config.dataDir
  t.not(runDir, dataDir, 'the run keeps its data in a folder of its own')
  // A recorded call still talking when the gateway stops: its state is on disk at shutdown.
  const old = first.simulator?.ctx.engine.startCall({ from: '+15557654321', to: '+15550101', answer: '101', ringMs: 100, talkMs: 60_000, record: true })
  t.ok(old !== undefined)
  const oldChain = await waitFor('the first call to start', 20_000, async () => chains(first, 'started')[0])
  const oldSecond = Math.floor(Date.now() / 1000) // the first call began in this second or before
  await first.close()
  t.notOk(existsSync(runDir), 'the run\'s folder is removed at shutdown')

  const second = await startGateway(loadConfig(env), { logStream: quiet() })
  t.teardown(async () => { await second.close() })
  await second.services.pbx.callControl.ready()
  t.equal(second.services.calls.restored, 0, 'no call of the previous simulator is resumed')
  // Chain ids carry the second the call began: let the clock move on so only a resumed call can share one.
  await waitFor('the clock to pass the first call\'s second', 5000, async () => Math.floor(Date.now() / 1000) > oldSecond ? true : undefined)
  const fresh = second.simulator?.ctx.engine.startCall({ from: '+15557654321', to: '+15550101', answer: '101', ringMs: 100, talkMs: 800, record: true })
  t.equal(fresh?.callid, old?.callid, 'the new simulator reuses the call id')
  await waitFor('the new call\'s recording event', 20_000, async () => chains(second, 'recording')[0])
  const seen = [...chains(second, 'started'), ...chains(second, 'ended'), ...chains(second, 'recording')]
  t.ok(seen.length >= 3)
  t.notOk(seen.includes(oldChain), `no event of the new run is about the previous run's call (${oldChain} vs ${seen.join(', ')})`)
})
