import t from 'tap'
import {
  and, anyEq, compare, contains, eq, expandWith, functionCall, isoDateTime, keyPath, literal, name, ODataBuildError, or, queryString, quote, waitInterval
} from '../../src/pbx/odata.js'

t.test('quote doubles inner single quotes', async (t) => {
  t.equal(quote("O'Brien"), "'O''Brien'")
  t.equal(quote("''"), "''''''")
  t.equal(quote(''), "''")
})

t.test('literals', async (t) => {
  t.equal(literal('a'), "'a'")
  t.equal(literal(42), '42')
  t.equal(literal(true), 'true')
  t.equal(literal(null), 'null')
  t.equal(literal(new Date('2025-01-01T00:00:00.123Z')), '2025-01-01T00:00:00Z')
  t.equal(literal({ raw: 'Pbx.X' }), 'Pbx.X')
  t.throws(() => literal(Number.NaN), ODataBuildError)
  t.throws(() => literal(Infinity), ODataBuildError)
  t.throws(() => isoDateTime(new Date('nope')), ODataBuildError)
})

t.test('names are checked so caller text cannot change the query shape', async (t) => {
  t.equal(name('TrunkDN/Number'), 'TrunkDN/Number')
  for (const bad of ['', '1a', 'a b', "a'", 'a)', 'a/']) t.throws(() => name(bad), ODataBuildError, bad)
})

t.test('filters', async (t) => {
  t.equal(eq('LastName', "O'Brien"), "LastName eq 'O''Brien'")
  t.equal(compare('Id', 'ge', 5), 'Id ge 5')
  t.equal(contains('Caller', "1'0"), "contains(Caller,'1''0')")
  t.equal(and(eq('A', 1), undefined, false, ''), 'A eq 1')
  t.equal(and(eq('A', 1), eq('B', 2)), '(A eq 1) and (B eq 2)')
  t.equal(anyEq('Number', ['101', '102']), "(Number eq '101') or (Number eq '102')")
  t.equal(and(or(eq('A', 1), eq('B', 2)), eq('C', 3)), '((A eq 1) or (B eq 2)) and (C eq 3)')
  t.equal(and(contains('X', 'y')), "contains(X,'y')")
})

t.test('queryString encodes values once and joins arrays with commas', async (t) => {
  t.equal(queryString(), '')
  t.equal(queryString({ filter: eq('LastName', "O'Brien") }), "?$filter=LastName%20eq%20'O''Brien'")
  t.equal(queryString({ select: ['Id', 'Number'], top: 1, skip: 0, count: true, orderby: ['StartTime desc'] }),
    '?$select=Id%2CNumber&$orderby=StartTime%20desc&$top=1&$skip=0&$count=true')
  t.equal(queryString({ expand: [expandWith('ForwardingProfiles', { select: ['Name', 'CustomName'] })] }),
    '?$expand=ForwardingProfiles(%24select%3DName%2CCustomName)')
  t.equal(queryString({ search: 'a&b=c' }), '?$search=a%26b%3Dc')
  t.throws(() => queryString({ top: -1 }), ODataBuildError)
  t.throws(() => queryString({ top: 1.5 }), ODataBuildError)
  t.throws(() => queryString({ orderby: ['Id; drop'] }), ODataBuildError)
  t.throws(() => queryString({ expand: ['a b'] }), ODataBuildError)
  t.throws(() => queryString({ select: ['Id,Number'] }), ODataBuildError)
})

t.test('function calls and key paths', async (t) => {
  t.equal(functionCall('Pbx.GetCallLogData', { periodFrom: new Date('2025-01-01T00:00:00Z'), sourceFilter: '', callsType: 0, hidePcalls: true }),
    "Pbx.GetCallLogData(periodFrom=2025-01-01T00:00:00Z,sourceFilter='',callsType=0,hidePcalls=true)")
  t.equal(functionCall('Pbx.SystemExtensions'), 'Pbx.SystemExtensions()')
  t.equal(functionCall('Pbx.X', { s: "O'Brien/#?" }), "Pbx.X(s='O''Brien%2F%23%3F')")
  t.throws(() => functionCall('Pbx.X(a)'), ODataBuildError)
  t.equal(keyPath('Users', 42), 'Users(42)')
  t.equal(keyPath('Users', { Number: "O'Brien" }), "Users(Number='O''Brien')")
  t.equal(keyPath('Users', { Number: '1 0' }), "Users(Number='1%200')")
  t.throws(() => keyPath('Users', -1), ODataBuildError)
  t.throws(() => keyPath('Users/../x', 1), ODataBuildError)
})

t.test('waitInterval', async (t) => {
  t.equal(waitInterval(30), '0:00:30')
  t.equal(waitInterval(3725.9), '1:02:05')
  t.throws(() => waitInterval(-1), ODataBuildError)
})

t.test('nested clauses keep their precedence', async (t) => {
  t.equal(and(or(eq('A', 1), eq('B', 2)), eq('C', 3)), '((A eq 1) or (B eq 2)) and (C eq 3)')
  t.equal(and('(A eq 1 or B eq 2)', eq('C', 3)), '(A eq 1 or B eq 2) and (C eq 3)')
  t.equal(and(eq('N', ') or (x'), eq('C', 3)), "(N eq ') or (x') and (C eq 3)")
})

t.test('pathSegment encodes one segment and refuses dot segments', async (t) => {
  const { pathSegment, ODataBuildError } = await import('../../src/pbx/odata.js')
  t.equal(pathSegment('sip:101@10.0.0.5;x=y'), 'sip%3A101%4010.0.0.5%3Bx%3Dy')
  t.equal(pathSegment('a/b'), 'a%2Fb')
  for (const bad of ['', '.', '..']) t.throws(() => pathSegment(bad), ODataBuildError, JSON.stringify(bad))
})
