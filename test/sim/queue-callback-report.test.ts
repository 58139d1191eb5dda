// Queue callbacks in XAPI's reports (ReportQueueCallbacks, ReportQueueFailedCallbacks) and the agent's
// callback call placed on behalf of the queue (Call Control on_behalf_of_dn/_type).
import t from 'tap'
import { CALLER, sleep, startCcSim, type CcSim } from './callcontrol-harness.js'
import { loadSwagger } from './xapi-swagger.js'
import type { CallParticipant } from '../../src/pbx/callcontrol-types.js'

const SALES = '+15550101'
const contract = loadSwagger()

function reportPath (fn: 'callbacks' | 'failed', queues: string): string {
  const from = new Date(Date.now() - 3600_000).toISOString()
  const to = new Date(Date.now() + 3600_000).toISOString()
  const set = fn === 'callbacks' ? 'ReportQueueCallbacks/Pbx.GetQueueCallbacksData' : 'ReportQueueFailedCallbacks/Pbx.GetQueueFailedCallbacksData'
  return `/xapi/v1/${set}(queueDnStr='${queues}',startDt=${from},endDt=${to})`
}

async function callbackOf (cc: CcSim, script: Record<string, unknown>): Promise<{ callid: number, back: number | null }> {
  const callid = await cc.call({ to: SALES, ringMs: 100, callback: true, ...script })
  await cc.waitEnded([callid])
  return { callid, back: (await cc.get(`/_sim/calls/${callid}`)).body.queue.callback.callid }
}

t.test('the agent\'s callback call shows on_behalf_of the queue', async (t) => {
  const cc = await startCcSim(t)
  const { back } = await callbackOf(cc, { from: CALLER, answer: '102' })
  if (back === null) throw new Error('no callback placed')
  const legs = (await cc.get('/callcontrol/102/participants')).body as CallParticipant[]
  t.match(legs.find((p) => p.callid === back), { dn: '102', on_behalf_of_dn: '800', on_behalf_of_type: 'Wqueue', party_caller_id: CALLER })
  const direct = await cc.post('/callcontrol/103/makecall', { destination: '+15557000004' })
  t.match(direct.body.result, { on_behalf_of_dn: '', on_behalf_of_type: 'None' }, 'an ordinary makecall is on nobody\'s behalf')
  cc.sim.reset()
})

t.test('ReportQueueCallbacks and ReportQueueFailedCallbacks count what happened', async (t) => {
  const cc = await startCcSim(t)
  const answered = await callbackOf(cc, { from: '+15557100001', answer: '101' })
  const nobody = await callbackOf(cc, { from: '+15557100002', answer: null })
  t.equal(nobody.back, null)
  const dropped = await callbackOf(cc, { from: '+15557100003', answer: '103' })
  if (dropped.back === null || answered.back === null) throw new Error('no callback placed')
  t.ok(cc.sim.ctx.engine.dropCall(dropped.back), 'the callback is dropped before anyone answers')
  const plain = await cc.call({ from: '+15557100004', to: SALES, answer: '102', ringMs: 50, talkMs: 50 })
  await cc.waitEnded([plain])
  for (let i = 0; i < 100 && cc.sim.ctx.engine.records().find((r) => r.callid === answered.back)?.answeredAt === null; i++) await sleep(20)

  const summary = await cc.get(reportPath('callbacks', '800'))
  t.equal(summary.status, 200)
  t.same(summary.body.value, [{ QueueDnNumber: '800', Dn: 'Sales', ReceivedCount: 4, CallbacksCount: 3, FailCallbacksCount: 2 }])
  const failed = await cc.get(reportPath('failed', '800'))
  t.match(failed.body.value, [
    { CallbackNo: '+15557100002', Dn: '800', QueueDnNumber: '800', RingTime: 'PT0S' },
    { CallbackNo: '+15557100003', Dn: '103', QueueDnNumber: '800', RingTime: /^PT\d+S$/ }
  ])
  t.equal(failed.body.value.length, 2)
  t.same((await cc.get(reportPath('callbacks', '801'))).body.value, [], 'another queue has none')
  t.equal((await cc.get(reportPath('callbacks', ''))).body.value.length, 1, 'an empty list means every queue')
  if (contract !== null) {
    for (const [res, path] of [[summary, '/ReportQueueCallbacks/Pbx.GetQueueCallbacksData'], [failed, '/ReportQueueFailedCallbacks/Pbx.GetQueueFailedCallbacksData']] as const) {
      const validate = contract.responseValidator(path)
      t.ok(validate(res.body), `${path} matches the swagger`, { errors: validate.errors?.slice(0, 3) })
    }
  }
  const wide = `/xapi/v1/ReportQueueCallbacks/Pbx.GetQueueCallbacksData(queueDnStr='800',startDt=2026-01-01T00:00:00Z,endDt=2026-03-01T00:00:00Z)`
  t.equal((await cc.get(wide)).status, 504, 'more than 31 days answers 504 like the other reports')
  cc.sim.reset()
})
