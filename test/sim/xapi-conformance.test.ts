// OData conformance table: each feature the simulator answers as ASP.NET OData (3CX) does, as a
// request and what must come back.
import t from 'tap'
import { callLogPath, filter, startXapiSim } from './xapi-fixture.js'
import { rewriteIn } from '../../src/sim/xapi/odata-filter.js'

const numbers = (body: { value: Array<{ Number: string }> }): string[] => body.value.map((u) => u.Number)

t.test('$filter features', async (t) => {
  const x = await startXapiSim(t)
  const table: Array<[string, string[]]> = [
    ["Number in ('101','102')", ['101', '102']],
    ["Number in ('101') or Number eq '119'", ['101', '119']],
    ["Groups/any(g: g/Name eq 'Support')", ['104', '105']],
    ['Groups/all(g: g/GroupId eq 1)', ['106', '107', '108', '109', '110', '111', '112', '113', '114', '115', '116', '117', '118', '119']],
    ["Tags/any()", []],
    ["QueueStatus eq Pbx.QueueStatusType'LoggedIn' and Number in ('100','101')", ['100', '101']],
    ["indexof(Number,'1') eq 0 and endswith(Number,'19')", ['119']],
    ["concat(FirstName,'!') eq 'Paul!'", ['119']],
    ["FirstName eq 'it''s' or Number in ('1''1')", []],
    // Arithmetic (Users' Ids are 1–20 for 100–119); integer division truncates, a decimal operand does not.
    ['Id add 100 eq 102', ['101']],
    ['Id sub 1 eq 0', ['100']],
    ['Id mul 2 eq 40', ['119']],
    ['Id div 2 eq 1', ['101', '102']],
    ['Id mod 10 eq 0', ['109', '119']],
    ['Id div 2.0 eq 1.5', ['102']],
    ['(Id add 1) mul 2 lt 6 and -Id lt 0', ['100']],
    ['Id div 0 eq 1 or Id mod 0 eq 0', []]
  ]
  for (const [expr, expected] of table) {
    const res = await x.get(`Users?${filter(expr)}&$select=Number&$orderby=Number`)
    t.equal(res.status, 200, expr)
    t.same(numbers(res.body), expected, expr)
  }
  const bad = await x.get(`Users?${filter("Number in ()")}`)
  t.equal(bad.status, 400)
  t.equal((await x.get(`Users?${filter("Nope/any(g: g eq 1)")}`)).status, 400)
  t.equal((await x.get(`Users?${filter("FirstName add 1 eq 2")}`)).status, 400, 'arithmetic on a string is 400')
  t.equal((await x.get(`Users?${filter("Groups/any(g: g/GroupId has Pbx.X'A')")}`)).status, 200, 'has on a non-enum value is false')
  t.same(rewriteIn("Name eq 'a in (b)' and Id in (1,2)"), "Name eq 'a in (b)' and (Id eq 1 or Id eq 2)")
})

t.test('$count, @odata.context and $metadata', async (t) => {
  const x = await startXapiSim(t)
  const count = await fetch(`${x.sim.url}/xapi/v1/Users/$count?${filter("Number in ('101','102')")}`, { headers: { authorization: `Bearer ${x.token}` } })
  t.equal(count.status, 200)
  t.match(count.headers.get('content-type'), /text\/plain/)
  t.equal(await count.text(), '2')
  t.equal((await x.get('Users?$count=true&$top=1')).body['@odata.count'], 20)
  t.equal((await x.get('SystemStatus/$count')).status, 404, '$count needs a collection')

  const contacts = await x.get('Contacts?$select=Id,FirstName')
  t.equal(contacts.body['@odata.context'], `${x.sim.url}/xapi/v1/$metadata#Contacts(Id,FirstName)`)
  t.equal((await x.get('Contacts(1)')).body['@odata.context'], `${x.sim.url}/xapi/v1/$metadata#Contacts/$entity`)
  t.equal((await x.get('MailSettings')).body['@odata.context'], `${x.sim.url}/xapi/v1/$metadata#MailSettings`)
  t.equal((await x.get('Parkings(1)/Groups')).body['@odata.context'], `${x.sim.url}/xapi/v1/$metadata#Parkings(1)/Groups`)
  t.equal((await x.get("Users(Number='101')?$select=Id,Number")).body['@odata.context'], x.context('Users(Id,Number)/$entity'), 'hand-written answers carry it too')
  t.equal((await x.get('Users(2)/Groups')).body['@odata.context'], x.context('Users(2)/Groups'))
  t.equal((await x.get('SystemStatus')).body['@odata.context'], x.context('SystemStatus'))
  const plain = await fetch(`${x.sim.url}/xapi/v1/Users?$top=1`, { headers: { authorization: `Bearer ${x.token}`, accept: 'application/json;odata.metadata=none' } })
  t.notOk('@odata.context' in (await plain.json() as object), 'odata.metadata=none leaves it out of hand-written answers')
  // Function and action results name their return type, as 3CX (ASP.NET OData) does.
  t.equal((await x.get('Defs/Pbx.GetSystemParameters()')).body['@odata.context'], x.context('Pbx.SystemParameters'))
  t.equal((await x.get('Users/Pbx.GetFirstAvailableExtensionNumber()')).body['@odata.context'], x.context('Pbx.FirstAvailableNumber'))
  t.equal((await x.get('NetworkSettings/Pbx.GetIfaces()')).body['@odata.context'], x.context('Collection(Edm.String)'))
  t.equal((await x.get(callLogPath('2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z'))).body['@odata.context'], x.context('Collection(Pbx.CallLogData)'), 'hand-written functions too')
  t.equal((await x.post('Users/Pbx.MakeCall', { dn: '101', destination: '102' })).body['@odata.context'], x.context('Pbx.CallControlResultResponse'), 'and actions')
  const none = await fetch(`${x.sim.url}/xapi/v1/Contacts`, { headers: { authorization: `Bearer ${x.token}`, accept: 'application/json;odata.metadata=none' } })
  t.notOk('@odata.context' in (await none.json() as object), 'odata.metadata=none leaves it out')

  const meta = await fetch(`${x.sim.url}/xapi/v1/$metadata`, { headers: { authorization: `Bearer ${x.token}` } })
  t.equal(meta.status, 200)
  const xml = await meta.text()
  t.match(xml, /<EntityType Name="User"><Key><PropertyRef Name="Id"\/><\/Key>/)
  t.match(xml, /<EnumType Name="QueueStatusType"><Member Name="LoggedOut" Value="0"\/>/)
  t.match(xml, /<NavigationProperty Name="Groups" Type="Collection\(Pbx.UserGroup\)"\/>/)
  t.match(xml, /<EntitySet Name="Users" EntityType="Pbx.User"\/>/)
  t.match(xml, /<Singleton Name="SystemStatus" Type="Pbx.SystemStatus"\/>/)
})

t.test('query options on generic sets', async (t) => {
  const x = await startXapiSim(t)
  for (const name of ['Zed', 'Amy', 'Bob']) await x.post('Contacts', { FirstName: name, LastName: 'L' })
  const page = await x.get('Contacts?$orderby=LastName desc,FirstName&$skip=1&$top=2&$select=FirstName&$count=true')
  t.same(page.body.value, [{ FirstName: 'Bob' }, { FirstName: 'Zed' }])
  t.equal(page.body['@odata.count'], 4)
  t.equal((await x.get('Contacts?$select=Bogus')).status, 400)
  t.equal((await x.get('Parkings?$expand=Groups($select=Name)')).status, 200)
  t.equal((await x.get('Parkings?$expand=Bogus')).status, 400)
})

t.test('compiled $filter: date parts, lambda variables, malformed in-lists', async (t) => {
  const { compileFilter } = await import('../../src/sim/xapi/odata-filter.js')
  const row = { At: '2025-03-04T05:06:07Z', When: new Date('2024-12-31T23:59:58Z'), Tags: ['a', 'b'], Items: [{ N: 1 }, { N: 2 }] }
  const yes = (expr: string): boolean => compileFilter(expr, () => true)(row)
  t.ok(yes('year(At) eq 2025 and month(At) eq 3 and day(At) eq 4 and hour(At) eq 5 and minute(At) eq 6 and second(At) eq 7'))
  t.ok(yes('year(When) eq 2024'))
  t.notOk(yes('year(Nope) eq 2024'), 'a missing date is null')
  t.ok(yes("Tags/any(t: t eq 'b')"))
  t.notOk(yes("Tags/all(t: t eq 'b')"))
  t.ok(yes('Items/all(i: i/N gt 0)'))
  t.notOk(yes('Missing/any(i: i/N gt 0)'), 'a missing collection matches nothing')
  t.throws(() => compileFilter('year(At, At) eq 1', () => true), /Syntax error/, 'date functions take one argument')
  t.throws(() => compileFilter("Name in ('a'", () => true), /Invalid 'in' list|Syntax error/)
  t.throws(() => compileFilter("Status eq 'x' has Pbx.X'A'", () => true), /./)
})
