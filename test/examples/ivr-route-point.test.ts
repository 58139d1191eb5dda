// examples/ivr-route-point.ts against `sim --tls` over wss: a caller dialling the route point's DID
// hears the prompt, presses 2 and ends up answered in queue 801; a key with no queue leaves the call.
import t from 'tap'
import { createSimulator } from '../../src/sim/simulator.js'
import { selfSignedCertificate } from '../../src/sim/tls-cert.js'
import { startIvr } from '../../examples/ivr-route-point.js'

const CALLER = '+15557654321'

t.test('the IVR example answers, prompts, reads a digit and transfers to that queue', async (t) => {
  const tls = selfSignedCertificate()
  const sim = await createSimulator({ tls })
  t.teardown(async () => { await sim.close() })
  const ivr = await startIvr({ pbxUrl: sim.url, clientId: '599', clientSecret: 'sim-secret', menu: { 1: '800', 2: '801' }, prompt: Buffer.alloc(16 * 300), ca: tls.cert })
  t.teardown(() => { ivr.close() })

  const { callid } = sim.ctx.engine.startCall({ from: CALLER, to: '+15550104', dtmf: '2', talkMs: 8000 })
  const other = sim.ctx.engine.startCall({ from: CALLER, to: '+15550104', dtmf: '9', ringMs: 20_000, talkMs: 3000 }).callid
  const end = Date.now() + 10_000
  let status = sim.ctx.engine.callStatus(callid)
  while (status?.queue?.answeredBy == null && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    status = sim.ctx.engine.callStatus(callid)
  }
  t.match(status, { status: 'talking', queue: { dn: '801' } }, 'an agent of queue 801 talks to the caller')
  t.match(status?.answeredBy, /^1\d\d$/)
  const events = sim.ctx.requestLog.map((r) => `${r.method} ${r.url.replace(/\d+/g, 'N')} ${r.status}`)
  t.ok(events.includes('POST /callcontrol/N/participants/N/stream 200'), 'the prompt was streamed')
  t.ok(events.includes('POST /callcontrol/N/participants/N/transferto 200'))
  const stuck = sim.ctx.engine.callStatus(other)
  t.match(stuck, { status: 'talking', queue: null }, 'an unknown key leaves the caller with the application')
  sim.ctx.engine.reset()
})
