// The generic XAPI (every swagger entity set, singleton, function and action beyond the hand-written
// ones): CRUD round trips, 3CX-like errors, computed functions and new directory objects that the
// rest of the simulator sees.
import t from 'tap'
import { XAPI_MODEL } from '../../src/sim/xapi/xapi-model.generated.js'
import { filter, startXapiSim } from './xapi-fixture.js'

t.test('CRUD round trip on every entity set with POST', async (t) => {
  const x = await startXapiSim(t)
  const creatable = [...new Set(XAPI_MODEL.operations.filter((o) => o.method === 'post' && /^\/\w+$/.test(o.path) && XAPI_MODEL.entitySets[o.path.slice(1)] !== undefined).map((o) => o.path.slice(1)))]
  t.ok(creatable.length >= 15, `${creatable.length} sets take POST`)
  for (const name of creatable) {
    const set = XAPI_MODEL.entitySets[name]
    const body = set.keyType === 'string' ? { [set.key]: `rt-${name}` } : {}
    const created = await x.post(name, body)
    t.equal(created.status, 201, `POST ${name}`)
    t.equal(created.body['@odata.context'], x.context(`${name}/$entity`), `${name}: the 201 names the created entity`)
    const key = created.body[set.key]
    const literal = typeof key === 'string' ? `'${key}'` : String(key)
    t.equal(created.headers.get('location'), `${x.sim.url}/xapi/v1/${name}(${literal})`, `${name}: Location`)
    t.equal((await x.get(`${name}(${literal})`)).status, 200, `GET ${name}(${literal})`)
    const hasPatch = XAPI_MODEL.operations.some((o) => o.method === 'patch' && o.path === `/${name}({${set.key}})`)
    if (hasPatch) t.equal((await x.patch(`${name}(${literal})`, { [set.key]: key })).status, 204, `PATCH ${name} with its unchanged key`)
    const del = await fetch(`${x.sim.url}/xapi/v1/${name}(${literal})`, { method: 'DELETE', headers: { authorization: `Bearer ${x.token}` } })
    t.equal(del.status, 204, `DELETE ${name}`)
    t.equal((await x.get(`${name}(${literal})`)).status, 404, `${name} is gone`)
  }
})

t.test('created directory objects are part of the PBX; errors are 3CX-shaped', async (t) => {
  const x = await startXapiSim(t)
  t.same((await x.get('Users/Pbx.GetFirstAvailableExtensionNumber()')).body, { '@odata.context': x.context('Pbx.FirstAvailableNumber'), value: '120' })
  const user = await x.post('Users', { FirstName: 'New', LastName: 'Person', VMEnabled: true })
  t.equal(user.status, 201)
  t.equal(user.body.Number, '120', 'the first free number is allocated')
  t.equal(user.body.VMEnabled, true)
  t.equal(user.body.DisplayName, 'New Person', 'the display name comes from the names')
  t.same(user.body.ForwardingProfiles, undefined, 'navigation properties are not in the answer')
  t.same((await x.get(`Users?${filter("Number eq '120'")}&$select=FirstName`)).body.value, [{ FirstName: 'New' }])
  t.equal((await x.get(`Users(${String(user.body.Id)})/ForwardingProfiles`)).body.value.length, 5, 'a new user has the five profiles')
  t.equal((await x.post('Users', { Number: '101' })).status, 400, 'a number in use is refused')

  const queue = await x.post('Queues', { Name: 'Billing' })
  t.equal(queue.body.Number, '802')
  const del = await fetch(`${x.sim.url}/xapi/v1/Queues(${String(queue.body.Id)})`, { method: 'DELETE', headers: { authorization: `Bearer ${x.token}` } })
  t.equal(del.status, 204)
  t.same((await x.get('Queues/Pbx.GetFirstAvailableQueueNumber()')).body, { '@odata.context': x.context('Pbx.FirstAvailableNumber'), value: '802' }, 'deleting a queue frees its number')

  t.equal((await x.patch('Groups(2)', { Name: 'Sales EMEA' })).status, 204, 'departments can be patched')
  t.same((await x.get('Groups(2)?$select=Name')).body, { '@odata.context': x.context('Groups(Name)/$entity'), Name: 'Sales EMEA' })

  const contact = await x.post('Contacts', { FirstName: 'Ada', CompanyName: 'Acme' })
  t.equal(contact.status, 201)
  for (const [body, message] of [[{ Nope: 1 }, /does not exist on type 'Pbx.Contact'/], [{ FirstName: 5 }, /Cannot convert/], [[1], /JSON object/]] as const) {
    const res = await x.post('Contacts', body)
    t.equal(res.status, 400)
    t.match(res.body.error, { code: 'BadRequest', message })
  }
  t.equal((await x.patch(`Contacts(${String(contact.body.Id)})`, { Id: 999 })).status, 400, 'a key cannot change')
  t.equal((await x.post('DeviceInfos', {})).status, 405, 'a path without POST answers 405')
  t.equal((await x.post('Playlists', {})).status, 400, 'a string key must be given')
  t.equal((await x.post('Playlists', { Name: 'p' })).status, 201)
  t.equal((await x.post('Playlists', { Name: 'p' })).status, 400, 'a duplicate key is refused')
  t.equal((await x.get('Contacts(4242)')).status, 404)
  t.equal((await x.get('Contacts(4242)/Pbx.Nope()')).status, 404)

  t.equal((await x.patch('SystemStatus', { Version: 'x' })).status, 405)
  t.equal((await x.patch('MailSettings', { MailServer: 'smtp.example.com' })).status, 204, 'singletons take PATCH where the swagger has it')
  t.equal((await x.get('MailSettings?$select=MailServer')).body.MailServer, 'smtp.example.com')
  t.equal((await fetch(`${x.sim.url}/xapi/v1/Users(2)`, { method: 'PUT', headers: { authorization: `Bearer ${x.token}` } })).status, 405)

  t.match((await x.get('SystemStatus/Pbx.SystemHealthStatus()')).body, { Firewall: true, Trunks: true, Phones: true })
  t.match((await x.get('Defs/Pbx.GetSystemParameters()')).body, { FQDN: 'sim.3cx.local', Version: '20.0.10.999' })
  t.match((await x.get("Trunks/Pbx.InitTrunk(template='generic.pv.xml')")).body, { Number: '10001', Gateway: { TemplateFilename: 'generic.pv.xml' } })
  t.match((await x.get('Fax/Pbx.InitFax()')).body, { Number: '888' })
  t.same((await x.get('SystemStatus/Pbx.GetRemoteAccessStatus()')).body, { '@odata.context': x.context('Pbx.RemoteAccessStatus'), value: XAPI_MODEL.enums['Pbx.RemoteAccessStatus'][0] })
  t.equal((await x.post('Users/Pbx.RegeneratePasswords', {})).status, 204)
  t.equal((await x.get('Queues(40)/Managers')).status, 200, 'navigation the hand-written XAPI does not serve')
  t.equal((await x.get("Parkings(Number='x')")).status, 404, 'alternate key lookups')
})

t.test('PATCH as read-modify-write clients send it (3CX xapi-tutorial)', async (t) => {
  const x = await startXapiSim(t)
  t.equal((await x.patch('Users(2)', { Number: '101', Id: 2, VMEnabled: true, Language: 'EN', SendEmailMissedCalls: true })).status, 204, 'unchanged read-only values and swagger properties are accepted')
  t.same((await x.get('Users(2)?$select=VMEnabled,Language')).body, { '@odata.context': x.context('Users(VMEnabled,Language)/$entity'), VMEnabled: true, Language: 'EN' })
  t.equal((await x.patch('Users(2)', { VMEnabled: 'yes' })).status, 400, 'swagger properties are type-checked')
  t.equal((await x.patch('Users(2)', { Groups: [{ GroupId: 3, Rights: { RoleName: 'managers' } }] })).status, 204, 'department membership can be patched')
  t.same((await x.get('Users(2)/Groups?$select=GroupId,Name,Rights')).body.value, [{ GroupId: 3, Name: 'Support', Rights: { RoleName: 'managers' } }])
  t.same((await x.get(`Groups?$expand=Members($select=Number)&${'$filter=Id%20eq%203'}`)).body.value[0].Members.map((m: { Number: string }) => m.Number), ['101', '104', '105'])
  t.equal((await x.patch('Users(2)', { Groups: [] })).status, 204)
  t.same((await x.get('Users(2)/Groups')).body.value, [])
  for (const groups of [{}, [{ Name: 'x' }], [{ GroupId: 99 }]]) t.equal((await x.patch('Users(2)', { Groups: groups })).status, 400, JSON.stringify(groups))
  t.equal((await x.patch('Queues(40)', { Number: '800', Name: 'Sales 2' })).status, 204)
  t.equal((await x.patch('Groups(2)', { Number: '100' })).status, 400, 'a number cannot change')
  const ivr = await x.post('Receptionists', { Name: 'Night' })
  t.equal((await x.patch(`Receptionists(${String(ivr.body.Id)})`, { Number: '100' })).status, 400)
  t.equal((await x.patch(`Receptionists(${String(ivr.body.Id)})`, { Number: ivr.body.Number, Name: 'Night 2' })).status, 204)
})
