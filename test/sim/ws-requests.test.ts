// Requests over the Call Control WebSocket (event type 4): a client sends {RequestID, Path,
// RequestData?} on the socket and gets {event_type: 4, attached_data: {RequestID, Path, StatusCode,
// Response}} back on that socket only, answered exactly as the REST request would be.
import t from 'tap'
import { sleep, startCcSim, type CcWatcher } from './callcontrol-harness.js'
import { fetchToken } from './xapi-fixture.js'
import { planWsRequest } from '../../src/sim/callcontrol/ws-requests.js'

interface Reply { sequence: number, event: { event_type: number, entity: string, attached_data: any } }

/** Sends one request and waits for the type-4 reply with its RequestID (or the next one without). */
async function request (w: CcWatcher, message: unknown, requestId?: string): Promise<Reply> {
  const before = w.observed.length
  w.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  for (let i = 0; i < 250; i++) {
    const found = w.observed.slice(before).find((o) => o.message.event.event_type === 4 &&
      (o.message.event.attached_data as { RequestID?: string }).RequestID === requestId)
    if (found !== undefined) return found.message as Reply
    await sleep(20)
  }
  throw new Error(`no reply to ${JSON.stringify(message)}`)
}

t.test('GET and POST over the WebSocket answer like REST, on the asking socket only', async (t) => {
  const cc = await startCcSim(t)
  const w = await cc.watch()
  const other = await cc.watch()

  const info = await request(w, { RequestID: 'r1', Path: '/callcontrol/101' }, 'r1')
  t.match(info.event, { event_type: 4, entity: '/callcontrol/101', attached_data: { RequestID: 'r1', Path: '/callcontrol/101', StatusCode: 200, Response: { dn: '101', type: 'Wextension' } } })

  const made = await request(w, { RequestID: 'r2', Path: '/callcontrol/101/makecall', RequestData: { Destination: '102' } }, 'r2')
  t.match(made.event.attached_data, { StatusCode: 200, Response: { finalstatus: 'Success', result: { dn: '101', status: 'Dialing' } } })
  const callid = made.event.attached_data.Response.result.callid as number
  const id = made.event.attached_data.Response.result.id as number
  t.ok(made.sequence > info.sequence, 'replies take the next number of the global sequence')
  await sleep(100)
  t.ok(w.observed.some((o) => o.message.event.event_type === 0 && o.message.event.entity === `/callcontrol/101/participants/${id}`), 'the call\'s events follow as usual')

  const dropped = await request(w, { RequestID: 'r3', Path: `/callcontrol/101/participants/${id}/drop`, RequestData: {} }, 'r3')
  t.match(dropped.event.attached_data, { StatusCode: 200, Response: { finalstatus: 'Success' } })
  await cc.waitEnded([callid])

  await other.settled()
  t.equal(other.observed.filter((o) => o.message.event.event_type === 4).length, 0, 'the other socket gets no replies')
  const seen = other.observed.map((o) => o.message.sequence)
  t.ok(seen.every((s) => s !== info.sequence && s !== made.sequence), 'it sees a gap where the replies were')
  cc.sim.reset()
})

t.test('refusals and errors come back with the REST status and body', async (t) => {
  const cc = await startCcSim(t)
  const w = await cc.watch()
  t.match((await request(w, { RequestID: 'a', Path: '/callcontrol/115/makecall', RequestData: { Destination: '101' } }, 'a')).event.attached_data, {
    StatusCode: 422, Response: { finalstatus: 'Failed', reason: 'PhoneNotRegistered' }
  })
  t.match((await request(w, { RequestID: 'b', Path: '/callcontrol/4242' }, 'b')).event.attached_data, { StatusCode: 404 })
  t.match((await request(w, { RequestID: 'c', Path: '/callcontrol/101/participants/1/frobnicate', RequestData: {} }, 'c')).event.attached_data, { StatusCode: 400 })
  t.match((await request(w, { RequestID: 'd', Path: '/callcontrol/101/makecall', RequestData: { Colour: 'red' } }, 'd')).event.attached_data, {
    StatusCode: 400, Response: { error: { message: /unknown field 'Colour'/ } }
  })
  t.match((await request(w, { RequestID: 'e', Path: '/xapi/v1/Users' }, 'e')).event.attached_data, { StatusCode: 400, Path: '/xapi/v1/Users' })
  t.match((await request(w, '{nope')).event.attached_data, { RequestID: undefined, StatusCode: 400, Response: { error: { message: /JSON object/ } } })

  await fetchToken(cc.sim.url) // a new token invalidates the one the socket was opened with
  t.match((await request(w, { RequestID: 'f', Path: '/callcontrol/101' }, 'f')).event.attached_data, { StatusCode: 401 }, 'requests carry the socket\'s own token')
})

t.test('planWsRequest, the pure reading of a request', async (t) => {
  t.same(planWsRequest('{"RequestID":"x","Path":"/callcontrol"}'), { ok: true, requestId: 'x', path: '/callcontrol', method: 'GET' })
  t.same(planWsRequest('{"Path":"/callcontrol/599/participants/3/routeto","RequestData":{"Destination":"800","Reason":null,"Timeout":20,"AttachedData":{"k":1}}}'), {
    ok: true, requestId: undefined, path: '/callcontrol/599/participants/3/routeto', method: 'POST', body: { destination: '800', timeout: 20, attacheddata: { k: 1 } }
  })
  t.match(planWsRequest('{"Path":"/callcontrol/ws"}'), { ok: false, status: 400 })
  t.match(planWsRequest('{"Path":"/callcontrol/599/participants/3/stream"}'), { ok: false, message: /HTTP only/ })
  t.match(planWsRequest('{"Path":"/callcontrol/101/makecall","RequestData":"102"}'), { ok: false, message: /must be an object/ })
  t.match(planWsRequest('[1]'), { ok: false, requestId: undefined })
  t.match(planWsRequest('{"RequestID":7,"Path":"/callcontrol"}'), { ok: true, requestId: undefined }, 'a RequestID that is not a string is not echoed')
})
