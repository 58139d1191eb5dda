// Calls the gateway never saw, end to end: the gateway is stopped, the simulator plays calls, the
// gateway starts again on the same DATA_DIR on a PBX that stays quiet. It asks the call log for calls
// above the highest id it had seen and announces each (call-started and call-ended, no ringing).
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { startReceiver } from '../webhooks/receiver.js'
import { startCall, startSim, until } from '../pbx/pbx-fixture.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [QUEUE, AGENT, DIRECT] = ['800', '101', '102'].map((n) => PBX.n(n))
const QUEUE_LINE = PBX.didTo(QUEUE)
const DIRECT_LINE = PBX.n('+15550102')

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

t.test('calls made while the gateway was down are announced from the call log after it starts', async (t) => {
  const sim = await startSim(t)
  const rx = await startReceiver()
  t.teardown(() => rx.close())
  const env = {
    PBX_URL: sim.url, PBX_CLIENT_ID: PBX.clientId, PBX_CLIENT_SECRET: PBX.secret, GATEWAY_KEYS: 'recovery-test-key-0123456789', PORT: '0',
    DATA_DIR: t.testdir({}), WEBHOOK_URLS: rx.url, CALL_END_GRACE_MS: '200', RECORDINGS_SOURCE: 'off'
  }
  const start = async (script: object): Promise<number> => await startCall(sim, script)
  type Payload = Record<string, string | number>
  const eventsOf = (callid: number): Payload[] => rx.received.map((r) => JSON.parse(r.body) as Payload).filter((p) => String(p.chid).endsWith(`_${callid}`))
  const line = (p: Payload): string => [p.event, p.user, p.trtype, p.finishtype, p.transfer === undefined ? undefined : `transfer=${p.transfer}`].filter((x) => x !== undefined).join(' ')

  const first = await startGateway(loadConfig(env), { logStream: quiet() })
  await first.services.pbx.callControl.ready()
  const seen = await start({ from: '+15557654321', to: DIRECT_LINE, answer: DIRECT, ringMs: 100, talkMs: 300 })
  await until(() => eventsOf(seen).some((p) => p.event === 'incoming'), 10_000, 'the seen call to end')
  await first.close()

  const answered = await start({ from: '+15557654322', to: QUEUE_LINE.number, answer: AGENT, ringMs: 200, talkMs: 1200 })
  const missed = await start({ from: '+15557654323', to: QUEUE_LINE.number, answer: null, ringMs: 400 })
  const outbound = await start({ from: AGENT, to: '+15559870000', answer: 'remote', ringMs: 200, talkMs: 1100 })
  await until(() => sim.ctx.engine.activeCalls() === 0, 10_000, 'the calls to end')

  // Missing ids are looked up after 0.5 s rather than the 5 s a call still being fetched may need live.
  const second = await startGateway(loadConfig(env), { logStream: quiet(), recovery: { settleMs: 500, everyMs: 100 } })
  t.teardown(() => second.close())
  await until(() => [answered, missed, outbound].every((id) => eventsOf(id).some((p) => p.event === 'incoming' || p.event === 'outgoing')), 20_000, 'the recovered calls')
  // Nothing more can come: no call id is left to look up and every event written was delivered.
  const metric = async (name: string): Promise<number> => {
    const res = await second.app.inject({ url: '/metrics', headers: { 'x-api-key': env.GATEWAY_KEYS } })
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.body)?.[1])
  }
  await until(async () => await metric('gateway_unseen_calls') === 0 && await metric('gateway_outbox_depth') === 0, 10_000, 'recovery and delivery to finish')
  t.same(eventsOf(answered).map(line), [`hangupincoming ${AGENT} NotDef`, `incoming ${AGENT} Ok transfer=false`], 'answered in the queue')
  t.match(eventsOf(answered)[1], { did: QUEUE_LINE.name, callerid: '+15557654322', duration: 1, title: new RegExp(`^${QUEUE_LINE.name}: answered call from \\+15557654322`) })
  t.same(eventsOf(missed).map(line), [`incoming ${QUEUE} Missed transfer=false`], 'missed in the queue')
  t.match(eventsOf(missed)[0], { title: `missed call in queue ${QUEUE} from +15557654323` })
  t.same(eventsOf(outbound).map(line), [`hangupoutgoing ${AGENT} NotDef`, `outgoing ${AGENT} Ok transfer=false`], 'outbound answered')
  t.match(eventsOf(outbound)[1], { callerid: '+15559870000' })
  t.same(eventsOf(seen).filter((p) => p.event === 'incoming').length, 1, 'the call it saw is not announced again')
  const metrics = await second.app.inject({ url: '/metrics', headers: { 'x-api-key': env.GATEWAY_KEYS } })
  t.match(metrics.body, /^gateway_recovered_calls 3$/m)
})
