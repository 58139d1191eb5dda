// A route point that routes its call on (routeto/transferto once connected) keeps its leg until the
// destination answers, as 3CX does: 3CX's custom-IVR sample calls `drop` on its participant right
// after `routeto`, and that drop must find it (200) and let the call go on to the destination.
import t from 'tap'
import { CALLER, notation, sleep, startCcSim, type CcSim } from './callcontrol-harness.js'
import type { CallParticipant } from '../../src/pbx/callcontrol-types.js'

const APP_LINE = '+15550104'

async function connectedRoutePointLeg (cc: CcSim): Promise<CallParticipant> {
  for (let i = 0; i < 200; i++) {
    const list = (await cc.get('/callcontrol/599/participants')).body as CallParticipant[]
    const leg = list.find((p) => p.status === 'Connected')
    if (leg !== undefined) return leg
    await sleep(20)
  }
  throw new Error('the route point never had a connected participant')
}

async function statusOf (cc: CcSim, callid: number): Promise<any> {
  return (await cc.get(`/_sim/calls/${callid}`)).body
}

// The cases are independent (a simulator each) and mostly wait for their calls: run them at once.
t.jobs = 4

t.test('the IVR sample\'s sequence: dial out from the route point, routeto a queue, drop at once', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const made = await cc.post('/callcontrol/599/makecall', { destination: '+15557000009' })
  t.equal(made.status, 200)
  const callid = made.body.result.callid as number
  const leg = await connectedRoutePointLeg(cc)
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/routeto`, { destination: '800' }), { status: 200 })
  t.match(await cc.post(`/callcontrol/599/participants/${leg.id}/drop`), { status: 200, body: { finalstatus: 'Success' } }, 'the drop finds the participant')
  t.equal((await cc.get(`/callcontrol/599/participants/${leg.id}`)).status, 404, 'then it is gone')
  t.match(await statusOf(cc, callid), { status: 'talking', endedAt: null, queue: { dn: '800', answeredBy: null } }, 'the call goes on in the queue')
  for (let i = 0; i < 200 && (await statusOf(cc, callid)).queue.answeredBy === null; i++) await sleep(20)
  t.match(await statusOf(cc, callid), { status: 'talking', queue: { dn: '800', answeredBy: '101' } }, 'an agent answers')
  cc.sim.reset()
})

t.test('without a drop the route point leaves when the destination answers; its segment is "transferred"', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const callid = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 5000 })
  for (let i = 0; i < 200 && (await cc.get('/callcontrol/599/participants')).body.length === 0; i++) await sleep(20)
  const [ringing] = (await cc.get('/callcontrol/599/participants')).body as CallParticipant[]
  await cc.post(`/callcontrol/599/participants/${ringing.id}/answer`)
  t.match(await cc.post(`/callcontrol/599/participants/${ringing.id}/routeto`, { destination: '103' }), { status: 200 })
  t.match((await cc.get(`/callcontrol/599/participants/${ringing.id}`)).body, { status: 'Connected' }, 'kept while 103 rings')
  for (let i = 0; i < 200 && (await statusOf(cc, callid)).answeredBy !== '103'; i++) await sleep(20)
  t.equal((await cc.get(`/callcontrol/599/participants/${ringing.id}`)).status, 404, 'gone once 103 answered')
  t.same(notation(await cc.eventsOf(callid)).filter((e) => e.startsWith('-599') || e.startsWith('+103')), [
    '+103#p3 Ringing 10000/Wexternalline CALLER', '-599#p2', '+103#p3 Connected 10000/Wexternalline CALLER'
  ], '599 goes when 103 answers')
  const record = cc.sim.ctx.engine.records().find((r) => r.callid === callid)
  t.ok(record?.segments.some((s) => s.dst.dn === '599' && s.action === 'transferred'))
  cc.sim.reset()
})

t.test('an IVR takes the call at once, so the route point leaves at once; a call that ends takes it along', { buffered: true }, async (t) => {
  const cc = await startCcSim(t)
  const ivrCall = await cc.call({ from: CALLER, to: APP_LINE, talkMs: 5000, ringMs: 3000 })
  const ivrLeg = (await (async () => {
    for (let i = 0; i < 200; i++) {
      const list = (await cc.get('/callcontrol/599/participants')).body as CallParticipant[]
      if (list.length > 0) return list[0]
      await sleep(20)
    }
    throw new Error('no route point leg')
  })())
  await cc.post(`/callcontrol/599/participants/${ivrLeg.id}/answer`)
  t.match(await cc.post(`/callcontrol/599/participants/${ivrLeg.id}/routeto`, { destination: '900' }), { status: 200 })
  t.equal((await cc.get(`/callcontrol/599/participants/${ivrLeg.id}`)).status, 404)
  t.match(await statusOf(cc, ivrCall), { endedAt: null }, 'the caller is in the IVR')

  const made = await cc.post('/callcontrol/599/makecall', { destination: '+15557000010' })
  const leg = await connectedRoutePointLeg(cc)
  await cc.post(`/callcontrol/599/participants/${leg.id}/routeto`, { destination: '116' }) // not registered: nobody answers
  t.equal(cc.sim.ctx.engine.dropCall(made.body.result.callid as number), true)
  t.equal((await cc.get(`/callcontrol/599/participants/${leg.id}`)).status, 404, 'ending the call removes the waiting route point leg')
  cc.sim.reset()
})
