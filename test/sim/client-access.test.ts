// API-client access like a real PBX: the default client monitors an explicit list of DNs, and a
// client created with a department reads only that department's users and calls only from them.
import t from 'tap'
import { PbxDefinitionError, parsePbxDefinition } from '../../src/sim/pbx-definition.js'
import { DEFAULT_PBX } from '../../src/sim/seed.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { callLogPath, simClient, type SimClient } from './xapi-fixture.js'

/** The default PBX with a second client scoped to the Sales department (100–103), and both clients. */
async function salesAndOwner (t: { teardown: (fn: () => unknown) => void }): Promise<{ sales: SimClient, owner: SimClient }> {
  const pbx = { ...DEFAULT_PBX, apiClients: [...DEFAULT_PBX.apiClients, { clientId: '598', secret: 'sales-secret', department: 'Sales', monitored: ['100', '101'] }] }
  const sim = await createSimulator({ pbx })
  t.teardown(async () => { await sim.close() })
  return { sales: await simClient(sim.url, '598', 'sales-secret'), owner: await simClient(sim.url, '599', 'sim-secret') }
}

t.test('the default client monitors 100–119, 700, 800, 801, 900 and trunk 10000, plus its route point', async (t) => {
  const sim = await createSimulator()
  t.teardown(async () => { await sim.close() })
  const call = await simClient(sim.url, '599', 'sim-secret')
  const dns = (await call('GET', '/callcontrol')).body.map((d: { dn: string }) => d.dn).sort()
  const extensions = Array.from({ length: 20 }, (_, i) => String(100 + i))
  t.same(dns, [...extensions, '10000', '599', '700', '800', '801', '900'].sort())
  // A user created later is not monitored until someone adds it, as on a real PBX.
  const made = await call('POST', '/xapi/v1/Users', { FirstName: 'New', LastName: 'Hire' })
  t.equal(made.body.Number, '120')
  t.equal((await call('GET', '/callcontrol/120')).status, 403)
})

t.test("a department-scoped client reads and calls only within its department (403 outside)", async (t) => {
  const { sales, owner } = await salesAndOwner(t)

  const numbers = async (call: SimClient): Promise<string[]> => (await call('GET', '/xapi/v1/Users?$select=Number&$orderby=Number')).body.value.map((u: { Number: string }) => u.Number)
  t.same(await numbers(sales), ['100', '101', '102', '103'], 'the Sales department only')
  t.equal((await numbers(owner)).length, 20, 'a client without a department sees the whole PBX')
  t.equal((await sales('GET', '/xapi/v1/Users?$count=true&$top=0')).body['@odata.count'], 4)
  t.equal((await sales('GET', "/xapi/v1/Users(Number='101')?$select=Number")).status, 200)
  const outside = await sales('GET', "/xapi/v1/Users(Number='104')")
  t.equal(outside.status, 403)
  t.match(outside.body, { error: { code: 'Forbidden', message: /104 is not in the API client's department \(Sales\)/ } })
  t.equal((await sales('GET', '/xapi/v1/Users(5)/Groups')).status, 403, 'navigation of an outside user too')

  t.equal((await sales('POST', '/xapi/v1/Users/Pbx.MakeCall', { dn: '101', destination: '102' })).status, 200)
  const refused = await sales('POST', '/xapi/v1/Users/Pbx.MakeCall', { dn: '104', destination: '101' })
  t.equal(refused.status, 403)
  t.match(refused.body.error.message, /MakeCall: extension 104/)
  t.equal((await owner('POST', '/xapi/v1/Users/Pbx.MakeCall', { dn: '104', destination: '105' })).status, 200, 'the PBX-wide client may')
})

t.test('a department-scoped client: queues, ring groups and groups of its department, its calls only, 403 on anything else by key', async (t) => {
  const { sales, owner } = await salesAndOwner(t)
  const numbers = async (call: SimClient, set: string, key = 'Number'): Promise<string[]> =>
    (await call('GET', `/xapi/v1/${set}?$select=${key}&$orderby=${key}`)).body.value.map((r: Record<string, string>) => r[key])

  t.same(await numbers(sales, 'Queues'), ['800'], 'Sales (agents 101–103), not Support (104, 105)')
  t.same(await numbers(owner, 'Queues'), ['800', '801'])
  t.same(await numbers(sales, 'RingGroups'), ['700'], 'Reception: 100 and 101, both in Sales')
  t.same(await numbers(sales, 'Groups', 'Name'), ['Sales'], 'only its own department')
  t.same(await numbers(owner, 'Groups', 'Name'), ['DEFAULT', 'Sales', 'Support'])
  t.equal((await sales('GET', '/xapi/v1/Queues?$count=true&$top=0')).body['@odata.count'], 1)
  t.equal((await sales('GET', "/xapi/v1/Queues(Number='800')/Agents")).status, 200)
  const queue = await sales('GET', "/xapi/v1/Queues(Number='801')")
  t.equal(queue.status, 403)
  t.match(queue.body.error.message, /queue 801 is not in the API client's department \(Sales\)/)
  t.equal((await sales('GET', "/xapi/v1/Queues(Number='801')/Agents")).status, 403, 'its navigation too')
  t.equal((await sales('GET', '/xapi/v1/Groups(3)')).status, 403, 'another department by key')
  t.equal((await sales('GET', '/xapi/v1/Groups(3)/Members')).status, 403)
  // Every method on an outside user: change, delete and bound functions are refused like a read.
  t.equal((await sales('PATCH', '/xapi/v1/Users(5)', { FirstName: 'X' })).status, 403)
  t.equal((await sales('DELETE', '/xapi/v1/Users(5)')).status, 403)
  t.equal((await owner('GET', '/xapi/v1/Users(5)?$select=FirstName')).body.FirstName, 'Olga', 'unchanged')
  t.equal((await sales('GET', '/xapi/v1/Users(5)/Pbx.GetPhoneSecret()')).status, 403)
  t.equal((await sales('PATCH', '/xapi/v1/Users(2)', { FirstName: 'Tommy' })).status, 204, 'its own users it may change')
  t.equal((await sales('GET', '/xapi/v1/Users(999)')).status, 404, 'an unknown key is still 404')

  // History, reports, recordings and active calls: only calls in which a Sales DN took part.
  for (const script of [{ from: '104', to: '105', answer: '105' }, { from: '101', to: '102', answer: '102' }]) {
    t.equal((await owner('POST', '/_sim/calls', { ...script, ringMs: 30, talkMs: 30 })).status, 201)
  }
  const history = async (call: SimClient): Promise<string[]> =>
    (await call('GET', '/xapi/v1/CallHistoryView?$select=SrcDn,DstDn')).body.value.map((r: Record<string, string>) => `${r.SrcDn}>${r.DstDn}`)
  for (let i = 0; (await history(owner)).length < 2; i++) {
    if (i > 250) throw new Error('the calls never reached the history')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.same((await history(owner)).sort(), ['101>102', '104>105'])
  t.same(await history(sales), ['101>102'], 'the Support call is not in the Sales client\'s history')
  const around = (ms: number): string => new Date(Date.now() + ms).toISOString().replace(/\.\d+Z$/, 'Z')
  const log = async (call: SimClient): Promise<string[]> => (await call('GET', `/xapi/v1/${callLogPath(around(-3600_000), around(3600_000))}`)).body.value.map((r: Record<string, string>) => r.SourceDn)
  t.same((await log(owner)).sort(), ['101', '104'])
  t.same(await log(sales), ['101'], 'nor in its call log report')
})

t.test('a definition names an unknown department or monitored DN', async (t) => {
  const base = 'users:\n  - { number: \'200\', firstName: A, lastName: B }\ntrunks:\n  - { number: \'20000\', name: T }\napiClients:\n'
  t.throws(() => parsePbxDefinition(`${base}  - { clientId: '700', secret: s, department: Nope }\n`, 'p.yaml'),
    new PbxDefinitionError("p.yaml:6: apiClients[0].department: Nope is not one of the departments (DEFAULT)"))
  t.throws(() => parsePbxDefinition(`${base}  - { clientId: '700', secret: s, monitored: ['200', '299'] }\n`, 'p.yaml'),
    new PbxDefinitionError('p.yaml:6: apiClients[0].monitored[1]: 299 is not a number of this PBX'))
})
