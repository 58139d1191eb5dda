// DELETE Users({Id}) cleans what names the extension, as 3CX does: IVR options, inbound rules'
// destinations (To: None) and API clients' monitored lists, besides queues, ring groups and departments.
import t from 'tap'
import { parsePbxDefinition } from '../../src/sim/pbx-definition.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { simClient } from './xapi-fixture.js'

const PBX = `
users:
  - { number: '200', firstName: Ada, lastName: Byron }
  - { number: '201', firstName: Bob, lastName: Stone }
ivrs:
  - { number: '650', name: Menu, options: { '1': '200', '2': '201' } }
trunks:
  - { number: '20000', name: Carrier }
dids:
  - { number: '+15559990001', name: Ada direct, to: '200' }
  - { number: '+15559990002', name: Menu line, to: '650' }
apiClients:
  - { clientId: '700', secret: other-secret, monitored: ['200', '201', '650'] }
`

t.test('deleting a user takes it out of IVR options, inbound rules and monitored lists', async (t) => {
  const sim = await createSimulator({ pbx: parsePbxDefinition(PBX, 'delete-user.yaml') })
  t.teardown(async () => { await sim.close() })
  const call = await simClient(sim.url, '700', 'other-secret')
  t.equal((await call('GET', '/callcontrol/200')).status, 200, '200 is monitored before')

  t.equal((await call('DELETE', '/xapi/v1/Users(1)')).status, 204)
  const forwards = await call('GET', "/xapi/v1/Receptionists(Number='650')/Forwards?$select=Input,ForwardDN")
  t.same(forwards.body.value, [{ Input: '2', ForwardDN: '201' }], "the IVR option to 200 is gone; the other stays")
  const rules = await call('GET', '/xapi/v1/InboundRules?$select=Data,OfficeHoursDestination,OutOfOfficeHoursDestination,HolidaysDestination&$orderby=Data')
  const none = { To: 'None', Number: '', Name: '', External: '' }
  t.same(rules.body.value[0], { Data: '+15559990001', OfficeHoursDestination: none, OutOfOfficeHoursDestination: none, HolidaysDestination: none }, 'the DID rule points at nothing')
  t.equal(rules.body.value[1].OfficeHoursDestination.Number, '650', 'other rules keep their destination')

  const inbound = await fetch(`${sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '+15557654321', to: '+15559990001', answer: null }) })
  t.equal(inbound.status, 400)
  t.match(await inbound.json(), { error: { message: /inbound rule "Ada direct" of \+15559990001 has no destination/ } })

  // A new user with the old number is not monitored: the client's list no longer names 200.
  t.equal((await call('POST', '/xapi/v1/Users', { Number: '200', FirstName: 'New', LastName: 'Ada' })).status, 201)
  t.equal((await call('GET', '/callcontrol/200')).status, 403, 'the monitored list lost 200')
  t.equal((await call('GET', '/callcontrol/201')).status, 200, 'and kept the others')
})
