// Directory entity sets over real HTTP: OData options, keys and alternate keys, navigation
// collections, PATCH effects visible in later reads, and the 400/404/405 answers.
import t from 'tap'
import { filter, startXapiSim } from './xapi-fixture.js'

t.test('Users: OData options, keys and navigation properties', async (t) => {
  const x = await startXapiSim(t)
  const list = await x.get('Users?$count=true&$top=5&$skip=5&$select=Id,Number&$orderby=Number desc')
  t.equal(list.status, 200)
  t.match(list.headers.get('content-type'), /^application\/json/)
  t.equal(list.body['@odata.count'], 20)
  t.same(list.body.value.map((u: { Number: string }) => u.Number), ['114', '113', '112', '111', '110'])
  t.same(Object.keys(list.body.value[0]), ['Id', 'Number'])

  const noCount = await x.get('Users?$top=1')
  t.notOk('@odata.count' in noCount.body, '@odata.count only with $count=true')
  t.notOk('Groups' in noCount.body.value[0] || 'ForwardingProfiles' in noCount.body.value[0], 'navigation properties only with $expand')

  const obrien = await x.get(`Users?${filter("LastName eq 'O''Brien'")}&$select=Number`)
  t.same(obrien.body.value, [{ Number: '119' }])
  const registered = await x.get(`Users?${filter("IsRegistered eq true and (startswith(Number,'11') or Number eq '100')")}&$select=Number`)
  t.same(registered.body.value.map((u: { Number: string }) => u.Number), ['100', '110', '111', '112', '113', '114'])
  const search = await x.get('Users?$search=anna&$select=Number')
  t.same(search.body.value, [{ Number: '100' }])

  const byNumber = await x.get("Users(Number='101')?$expand=ForwardingProfiles($select=Name,CustomName),Groups&$select=Id,Number,CurrentProfileName")
  t.equal(byNumber.status, 200)
  t.same(byNumber.body.ForwardingProfiles.map((p: { Name: string }) => p.Name), ['Available', 'Away', 'OutOfOffice', 'Available2', 'OutOfOffice2'])
  t.same(Object.keys(byNumber.body.ForwardingProfiles[0]), ['Name', 'CustomName'])
  t.same(byNumber.body.Groups.map((g: { Name: string }) => g.Name), ['DEFAULT', 'Sales'])
  t.equal(byNumber.body.CurrentProfileName, 'Available')

  const byId = await x.get(`Users(${byNumber.body.Id as number})`)
  t.equal(byId.body.Number, '101')
  const profiles = await x.get(`Users(${byNumber.body.Id as number})/ForwardingProfiles?$filter=${encodeURIComponent("CustomName eq 'Out of office'")}`)
  t.same(profiles.body.value.map((p: { Name: string }) => p.Name), ['OutOfOffice'])

  for (const [path, status] of [['Users(999)', 404], ["Users(Number='999')", 404], ["Users(Number='O''Brien')", 404], ['Users(abc)', 404],
    ['Users(2)/Nope', 404], ['Nope', 404], ['Users/Nope/More', 404], ['Users?$filter=Number%20eq%20101', 400], ['Users?$expand=Phones', 400],
    ['Users?$select=Bogus', 400], ["DidNumbers(Number='+15550100')", 404]] as const) {
    const res = await x.get(path)
    t.equal(res.status, status, path)
    t.type(res.body.error?.message, 'string', `${path} answers an OData error`)
  }
})

t.test('other directory sets', async (t) => {
  const x = await startXapiSim(t)
  const queue = await x.get("Queues(Number='800')?$expand=Agents($select=Number)")
  t.same(queue.body.Agents, [{ Number: '101' }, { Number: '102' }, { Number: '103' }])
  const agents = await x.get(`Queues(${queue.body.Id as number})/Agents?$select=Number,Name`)
  t.same(agents.body.value[0], { Number: '101', Name: 'Tom Smith' })
  t.same((await x.get('RingGroups(30)/Members?$select=Number')).body.value, [{ Number: '100' }, { Number: '101' }])
  t.equal((await x.get("RingGroups(Number='700')")).body.Name, 'Reception')
  t.equal((await x.get('Receptionists?$expand=Forwards')).body.value[0].Forwards.length, 2)
  t.equal((await x.get('Trunks')).body.value[0].Number, '10000')
  t.equal((await x.get('DidNumbers?$count=true')).body['@odata.count'], 5, 'with +15550103 → ring group 700 and +15550104 → route point 599')

  const rules = await x.get(`InboundRules?$expand=TrunkDN($select=Number)&${filter("TrunkDN/Number eq '10000' and Data eq '+15550101'")}&$select=RuleName,Data`)
  t.same(rules.body.value, [{ RuleName: 'Sales line', Data: '+15550101', TrunkDN: { Number: '10000' } }])
  const noTrunk = await x.get('InboundRules?$top=1')
  t.notOk('TrunkDN' in noTrunk.body.value[0])

  const groups = await x.get(`Groups?$expand=Members($select=Number;$orderby=Number)&${filter("Name eq 'Sales'")}`)
  t.same(groups.body.value[0].Members.map((m: { Number: string }) => m.Number), ['100', '101', '102', '103'])
  t.notOk('MemberNumbers' in groups.body.value[0], 'internal fields are not served')

  const status = await x.get('SystemStatus?$select=Version,CallsActive,ExtensionsRegistered,ExtensionsTotal')
  t.same(status.body, { '@odata.context': x.context('SystemStatus(Version,CallsActive,ExtensionsRegistered,ExtensionsTotal)'), Version: '20.0.10.999', CallsActive: 0, ExtensionsRegistered: 15, ExtensionsTotal: 20 })
  t.same((await x.get('ActiveCalls')).body, { '@odata.context': x.context('ActiveCalls'), value: [] })
})

t.test('PATCH Users: merges, validates and answers 204', async (t) => {
  const x = await startXapiSim(t)
  const ok = await x.patch('Users(2)', { CurrentProfileName: 'Away', QueueStatus: 'LoggedOut', RecordCalls: true, Internal: true })
  t.equal(ok.status, 204)
  t.equal(ok.body, '')
  const after = await x.get('Users(2)?$select=CurrentProfileName,QueueStatus,RecordCalls,Internal,Enabled')
  t.same(after.body, { '@odata.context': x.context('Users(CurrentProfileName,QueueStatus,RecordCalls,Internal,Enabled)/$entity'), CurrentProfileName: 'Away', QueueStatus: 'LoggedOut', RecordCalls: true, Internal: true, Enabled: true })
  t.same((await x.get(`Users?${filter("QueueStatus eq 'LoggedOut'")}&$select=Number`)).body.value, [{ Number: '101' }])

  const profiles = (await x.get('Users(2)/ForwardingProfiles')).body.value
  profiles[3].CustomName = 'Lunch'
  t.equal((await x.patch('Users(2)', { ForwardingProfiles: profiles, CurrentProfileName: 'Available2' })).status, 204)
  const renamed = await x.get("Users(2)?$expand=ForwardingProfiles($filter=Name eq 'Available2')&$select=CurrentProfileName")
  t.same(renamed.body, { '@odata.context': x.context('Users(CurrentProfileName)/$entity'), CurrentProfileName: 'Available2', ForwardingProfiles: [{ ...profiles[3], CustomName: 'Lunch' }] })

  for (const body of [{ CurrentProfileName: 'Holiday' }, { Frobnicate: 1 }, { Enabled: 'yes' }, { QueueStatus: 'Busy' }, { IsRegistered: false },
    { Number: '555' }, { ForwardingProfiles: [] }, { ForwardingProfiles: [{ Id: 99, Bogus: 1 }] }, [1, 2]]) {
    const res = await x.patch('Users(2)', body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.type(res.body.error.message, 'string')
  }
  t.equal((await x.get('Users(2)?$select=CurrentProfileName')).body.CurrentProfileName, 'Available2', 'failed PATCHes change nothing')
  t.equal((await x.patch('Users(999)', { Enabled: false })).status, 404)
  t.equal((await x.patch('SystemStatus', { Version: 'x' })).status, 405)
})

t.test('PATCH Queues and RingGroups replace the member list', async (t) => {
  const x = await startXapiSim(t)
  t.equal((await x.patch('Queues(40)', { Agents: [{ Number: '104', SkillGroup: '2' }, { Number: '101' }], RingTimeout: 30 })).status, 204)
  const agents = await x.get('Queues(40)/Agents?$select=Number,SkillGroup,Name')
  t.same(agents.body.value, [{ Number: '104', SkillGroup: '2', Name: 'Olga Ivanova' }, { Number: '101', SkillGroup: '1', Name: 'Tom Smith' }])
  t.equal((await x.get('Queues(40)?$select=RingTimeout')).body.RingTimeout, 30)
  t.equal((await x.patch('Queues(40)', { Agents: [{ Number: '999' }] })).status, 400)
  t.equal((await x.patch('Queues(40)', { Agents: [{ Number: '101' }, { Number: '101' }] })).status, 400)
  t.equal((await x.patch('Queues(40)', { PollingStrategy: 'Random' })).status, 400)
  t.equal((await x.patch('RingGroups(30)', { Members: [{ Number: '105' }] })).status, 204)
  t.same((await x.get('RingGroups(30)/Members?$select=Number')).body.value, [{ Number: '105' }])
})

t.test('DELETE Users({Id}): 204, and the extension leaves its queues, ring groups and departments', async (t) => {
  const x = await startXapiSim(t)
  const del = async (path: string): Promise<number> => (await fetch(`${x.sim.url}/xapi/v1/${path}`, { method: 'DELETE', headers: { authorization: `Bearer ${x.token}` } })).status
  const call = await x.post('Users/Pbx.MakeCall', { dn: '103', destination: '104' })
  t.equal(call.status, 200)
  const user = (await x.get("Users(Number='101')?$select=Id")).body
  t.equal(await del(`Users(${String(user.Id)})`), 204)
  t.equal((await x.get(`Users(${String(user.Id)})`)).status, 404, 'the user is gone')
  t.equal((await x.get('Users/$count')).body, '19')
  t.same((await x.get("Queues(Number='800')/Agents?$select=Number")).body.value, [{ Number: '102' }, { Number: '103' }], 'out of the queue')
  t.same((await x.get("RingGroups(Number='700')/Members?$select=Number")).body.value, [{ Number: '100' }], 'out of the ring group')
  const sales = (await x.get("Groups?$filter=Name eq 'Sales'&$expand=Members($select=Number)")).body.value[0]
  t.same(sales.Members.map((m: { Number: string }) => m.Number), ['100', '102', '103'], 'out of the department')
  t.same((await x.get("Users(Number='102')/Groups?$select=GroupId")).body.value.length, 2, 'other users keep their departments')
  t.same((await x.get('ActiveCalls?$select=Id')).body.value.map((c: { Id: number }) => c.Id), [call.body.Result.CallId], 'the call in progress goes on')
  t.equal(await del(`Users(${String(user.Id)})`), 404, 'a second DELETE finds nothing')
  t.equal(await del("Users(Number='102')"), 405, 'DELETE takes the Id key only')
  t.equal((await x.get("Users(Number='102')?$select=Number")).status, 200)
})

t.test('actions: MakeCall validation, DropCall of an unknown call, unsupported methods', async (t) => {
  const x = await startXapiSim(t)
  for (const body of [{ dn: '101' }, { destination: '102' }, { dn: '101', destination: '102', extra: 1 }, { dn: '999', destination: '102' }, { dn: '101', destination: '102', testCall: 'no' }]) {
    t.equal((await x.post('Users/Pbx.MakeCall', body)).status, 400, JSON.stringify(body))
  }
  const drop = await x.post('ActiveCalls(424242)/Pbx.DropCall')
  t.equal(drop.status, 404)
  t.equal(drop.body.error.code, 'NotFound')
  const res = await fetch(`${x.sim.url}/xapi/v1/ActiveCalls(424242)/Pbx.DropCall`, { method: 'POST', headers: { authorization: `Bearer ${x.token}`, 'content-type': 'application/json' } })
  t.equal(res.status, 404, 'an empty JSON body is accepted (the call is unknown)')
  const bad = await fetch(`${x.sim.url}/xapi/v1/Users(2)`, { method: 'PATCH', headers: { authorization: `Bearer ${x.token}`, 'content-type': 'application/json' }, body: '{nope' })
  t.equal(bad.status, 400)
  t.match(await bad.json(), { error: { code: 'BadRequest' } })
  t.equal((await fetch(`${x.sim.url}/xapi/v1/Users(2)`, { method: 'PUT', headers: { authorization: `Bearer ${x.token}` } })).status, 405)
  t.equal((await x.post('Users/Pbx.Frob', {})).status, 404)
})
