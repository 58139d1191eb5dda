// The pure OData layer: query-string parsing, $filter compilation, shaping and paging, literals,
// resource paths and function parameters (404 malformed / 500 wrong type).
import t from 'tap'
import { applyToCollection, parseQueryString, type EntityShape } from '../../src/sim/xapi/odata-query.js'
import { compileFilter } from '../../src/sim/xapi/odata-filter.js'
import { parseLiteral, splitTopLevel, unquote } from '../../src/sim/xapi/odata-literal.js'
import { parseEntityKey, parseResourcePath } from '../../src/sim/xapi/xapi-path.js'
import { parseFunctionParams, parseTimeSpan } from '../../src/sim/xapi/function-params.js'
import { ODataError } from '../../src/sim/xapi/odata-error.js'
import { isoDuration } from '../../src/sim/xapi/call-rows.js'

const rows = [
  { Id: 1, Number: '101', Name: "O'Brien", Enabled: true, Start: '2025-01-01T10:00:00.000Z', Peer: { Number: '10000' }, Kids: [{ Id: 7, Name: 'a' }, { Id: 8, Name: 'b' }] },
  { Id: 2, Number: '102', Name: 'Smith', Enabled: false, Start: '2024-12-31T23:00:00.000Z', Peer: { Number: '10001' }, Kids: [] },
  { Id: 3, Number: '201', Name: 'Brown', Enabled: true, Start: null, Peer: { Number: '10000' }, Kids: [{ Id: 9, Name: 'c' }] }
]
const shape: EntityShape = { typeName: 'Pbx.Test', navigation: { Kids: { typeName: 'Pbx.Kid' }, Peer: { typeName: 'Pbx.Peer' } } }
const ids = (query: string): number[] => applyToCollection(rows, parseQueryString(query), shape).value.map((r) => r.Id as number)
const enc = (expr: string): string => `$filter=${encodeURIComponent(expr)}`

function statusOf (fn: () => unknown): number | 'ok' {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (err instanceof ODataError) return err.statusCode
    throw err
  }
}

t.test('$filter operators on real 3CX query shapes', async (t) => {
  t.same(ids(enc("Number eq '101'")), [1])
  t.same(ids(enc("Number ne '101'")), [2, 3])
  t.same(ids(enc("Name eq 'O''Brien'")), [1], 'quoted string with a doubled quote')
  t.same(ids(enc("Start ge 2025-01-01T00:00:00Z and (Number eq '101' or Number eq '102')")), [1], 'bare ISO date-time, and/or, parentheses')
  t.same(ids(enc('Start lt 2025-01-01T00:00:00Z')), [2], 'null dates never compare')
  t.same(ids(enc('Start le 2025-01-01T10:00:00.0000000+00:00')), [1, 2])
  t.same(ids(enc("contains(Number,'0')")), [1, 2, 3])
  t.same(ids(enc("startswith(Number,'10')")), [1, 2])
  t.same(ids(enc('not (Enabled eq true)')), [2])
  t.same(ids(enc('Enabled eq false or Id gt 2')), [2, 3])
  t.same(ids(enc("Peer/Number eq '10000'")), [1, 3], 'navigation path')
  t.same(ids(enc('Id ge 2 and Id lt 3')), [2])
  t.same(ids(enc('Start eq null')), [3])
  t.same(ids(enc("tolower(Name) eq 'smith'")), [2])
  t.same(ids('$filter=Number+eq+%27101%27'), [1], 'plus as space in the query string')
})

t.test('$filter errors are 400', async (t) => {
  for (const bad of ["Number eq '101", 'Number eq', "Bogus eq '1'", 'Number eq 101', "frobnicate(Number,'1')", 'Number add 1 eq 2']) {
    t.equal(statusOf(() => ids(enc(bad))), 400, bad)
  }
  t.equal(statusOf(() => compileFilter('(Id eq 1', () => true)), 400)
})

t.test('$select, $expand with nested options, $orderby, paging and $count', async (t) => {
  const all = applyToCollection(rows, parseQueryString(''), shape).value
  t.notOk('Kids' in all[0], 'navigation properties only with $expand')
  t.same(applyToCollection(rows, parseQueryString('$select=Id,Name&$top=1'), shape).value, [{ Id: 1, Name: "O'Brien" }])
  const expanded = applyToCollection(rows, parseQueryString(`$select=Id&$expand=Kids(${encodeURIComponent("$filter=Name ne 'a';$select=Name")}),Peer`), shape).value
  t.same(expanded[0], { Id: 1, Kids: [{ Name: 'b' }], Peer: { Number: '10000' } })
  t.same(ids('$orderby=Name desc'), [2, 1, 3])
  t.same(ids('$orderby=Enabled,Id desc'), [2, 3, 1])
  t.same(ids('$orderby=Start'), [3, 2, 1], 'nulls sort first')
  const page = applyToCollection(rows, parseQueryString('$count=true&$skip=1&$top=1&$orderby=Id'), shape)
  t.same(page, { '@odata.count': 3, value: [rows[1]].map(({ Kids, Peer, ...r }) => r) })
  t.same(ids('$search=brien'), [1], '$search is a substring over string fields')
  t.same(ids('$search="smi"'), [2])
  for (const bad of ['$top=-1', '$skip=x', '$count=yes', '$select=Id,,', '$orderby=Id sideways', '$expand=Nope', '$select=Nope', '$frob=1', '$top=1&$top=2', '$expand=Kids($bogus=1)', '$filter=%E0%A4%A']) {
    t.equal(statusOf(() => ids(bad)), 400, bad)
  }
  t.equal(statusOf(() => ids('$orderby=Nope')), 400)
})

t.test('literals, paths and keys', async (t) => {
  t.same(parseLiteral("'O''Brien'"), { type: 'string', value: "O'Brien" })
  t.same(parseLiteral("''"), { type: 'string', value: '' })
  t.equal(parseLiteral("'a'b'"), null)
  t.equal(unquote("'abc"), null)
  t.same(parseLiteral('42'), { type: 'int', value: 42 })
  t.same(parseLiteral('true'), { type: 'bool', value: true })
  t.equal((parseLiteral('2025-01-01T00:00:00Z')?.value as Date).toISOString(), '2025-01-01T00:00:00.000Z')
  t.equal(parseLiteral('2025-13-45T00:00:00Z'), null)
  t.equal(parseLiteral('abc'), null)
  t.same(splitTopLevel("a='x,y',b=(1,2),c", ','), ["a='x,y'", 'b=(1,2)', 'c'])
  t.equal(splitTopLevel("a='x", ','), null)
  t.same(parseResourcePath("Users(Number='a/b')/ForwardingProfiles"), [{ name: 'Users', args: "Number='a/b'" }, { name: 'ForwardingProfiles' }])
  t.equal(parseResourcePath('Users(1'), null)
  t.same(parseEntityKey('12'), { kind: 'id', id: 12 })
  t.same(parseEntityKey("Number='O''Brien'"), { kind: 'number', number: "O'Brien" })
  t.equal(parseEntityKey("Name='x'"), null)
  t.equal(isoDuration(65_000), 'PT1M5S')
  t.equal(isoDuration(0), 'PT0S')
  t.equal(isoDuration(3_600_000), 'PT1H')
})

t.test('function parameters: missing/unknown/malformed → 404, wrong type → 500', async (t) => {
  const spec = { periodFrom: 'datetime', queueDns: 'string', n: 'int', flag: 'bool' } as const
  const parse = (inner: string): unknown => parseFunctionParams('Pbx.F', inner, spec)
  t.same(parse("periodFrom=2025-01-01T00:00:00Z,queueDns='800',n=0,flag=true"), { periodFrom: new Date('2025-01-01T00:00:00Z'), queueDns: '800', n: 0, flag: true })
  t.same(parse("periodFrom=2025-01-01T00:00:00Z,queueDns=null,n=0,flag=true"), { periodFrom: new Date('2025-01-01T00:00:00Z'), queueDns: null, n: 0, flag: true })
  for (const bad of ["queueDns='800',n=0,flag=true", "periodFrom=2025-01-01T00:00:00Z,queueDns='800',n=0,flag=true,x=1",
    "periodFrom=2025-01-01T00:00:00Z,queueDns='800,n=0,flag=true", "periodFrom=2025-01-01T00:00:00Z,periodFrom=2025-01-01T00:00:00Z,queueDns='800',n=0,flag=true",
    "periodFrom=yesterday,queueDns='800',n=0,flag=true", "periodFrom 2025,queueDns='800',n=0,flag=true"]) {
    t.equal(statusOf(() => parse(bad)), 404, bad)
  }
  for (const bad of ["periodFrom='2025-01-01T00:00:00Z',queueDns='800',n=0,flag=true", "periodFrom=2025-01-01T00:00:00Z,queueDns=800,n=0,flag=true",
    "periodFrom=2025-01-01T00:00:00Z,queueDns='800',n='x',flag=true", "periodFrom=2025-01-01T00:00:00Z,queueDns='800',n=0,flag=1",
    "periodFrom=2025-01-01T00:00:00Z,queueDns='800',n=99999999999,flag=true"]) {
    t.equal(statusOf(() => parse(bad)), 500, bad)
  }
  t.equal(parseTimeSpan('w', '0:01:05'), 65_000)
  t.equal(statusOf(() => parseTimeSpan('w', 'soon')), 500)
})
