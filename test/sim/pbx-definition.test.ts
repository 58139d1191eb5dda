// PBX definitions: pbx/default.yaml is the built-in PBX, a second PBX runs calls, errors name the
// file, line and field, --state survives a restart and `sim snapshot` writes a definition that runs.
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { PbxDefinitionError, definitionToDirectory, loadPbxDefinition, parsePbxDefinition, simulatorFileOptions } from '../../src/sim/pbx-definition.js'
import { DEFAULT_PBX, seedDirectory } from '../../src/sim/seed.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { monitoredOf, runSnapshot } from '../../src/sim/pbx-snapshot.js'
import { loadState } from '../../src/sim/sim-state.js'
import { fetchToken } from './xapi-fixture.js'

const DEFAULT_PBX_FILE = fileURLToPath(new URL('../../pbx/default.yaml', import.meta.url))

const SMALL = `
users:
  - { number: '200', firstName: Ada, lastName: Byron }
  - { number: '201', firstName: Bob, lastName: Stone, registered: false }
queues:
  - { number: '500', name: Help, strategy: Hunt, ringTimeout: 5, agents: ['200'] }
ringGroups:
  - { number: '600', name: Front, members: ['200', '201'] }
ivrs:
  - { number: '650', name: Menu, options: { '1': '500', '#': '600' } }
trunks:
  - { number: '20000', name: Carrier, externalNumber: '+15559990000' }
dids:
  - { number: '+15559990001', name: Help line, to: '500' }
  - { number: '+15559990002', name: Front line, to: '600' }
apiClients:
  - { clientId: '700', secret: other-secret, monitored: ['200'] }
entities:
  Contacts:
    - { FirstName: Grace, LastName: Hopper, CompanyName: Navy Labs, Business: '+15557650001' }
`

t.test('pbx/default.yaml is the built-in PBX, with DID +15550103 to ring group 700', async (t) => {
  t.same(loadPbxDefinition(DEFAULT_PBX_FILE), JSON.parse(JSON.stringify(DEFAULT_PBX)), 'the file says what seed.ts says')
  t.same(definitionToDirectory(loadPbxDefinition(DEFAULT_PBX_FILE)), seedDirectory())
  const rule = seedDirectory().inboundRules.find((r) => r.Data === '+15550103')
  t.match(rule?.OfficeHoursDestination, { To: 'RingGroup', Number: '700' })
  const app = seedDirectory().inboundRules.find((r) => r.Data === '+15550104')
  t.match(app?.OfficeHoursDestination, { To: 'RoutePoint', Number: '599', Name: 'API client 599' }, 'a DID to an API client goes to its route point')
})

t.test('a second PBX: its numbers, client, DIDs and entities', async (t) => {
  const sim = await createSimulator({ pbx: parsePbxDefinition(SMALL, 'small.yaml') })
  t.teardown(async () => { await sim.close() })
  await t.rejects(fetchToken(sim.url), 'the default client does not exist here')
  const token = await fetchToken(sim.url, '700', 'other-secret')
  const get = async (p: string): Promise<any> => await (await fetch(`${sim.url}/xapi/v1/${p}`, { headers: { authorization: `Bearer ${token}` } })).json()
  t.same((await get('Users?$select=Number')).value, [{ Number: '200' }, { Number: '201' }])
  t.same((await get('Contacts?$select=FirstName,Business')).value, [{ FirstName: 'Grace', Business: '+15557650001' }])
  t.match((await get('Receptionists(20)?$expand=Forwards')).Forwards, [{ Input: '1', ForwardDN: '500', ForwardType: 'Queue' }, { Input: '#', ForwardDN: '600', ForwardType: 'RingGroup' }])
  const call = await fetch(`${sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '+15557654321', to: '+15559990002', answer: '200', ringMs: 50, talkMs: 50 }) })
  t.equal(call.status, 201, 'an external call to the ring group arrives on its DID')
  await fetch(`${sim.url}/xapi/v1/Users(1)`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ FirstName: 'Changed' }) })
  await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })
  t.equal((await get('Users(1)?$select=FirstName')).FirstName, 'Ada', 'a reset restores the described PBX')
})

t.test('errors name the file, line and field', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [SMALL.replace("number: '201'", 'number: 201'), /^x\.yaml:4: users\[1\]\.number: must be a string \(quote numbers/],
    [SMALL.replace("agents: ['200']", "agents: ['299']"), /^x\.yaml:\d+: queues\[0\]\.agents\[0\]: extension 299 is not one of the users/],
    [SMALL.replace("to: '600' }", "to: '20000' }"), /dids\[1\]\.to: 20000 is not an extension/],
    [SMALL.replace("number: '600'", "number: '500'"), /ringGroups\[0\]\.number: number 500 is already used by queues/],
    [SMALL.replace("'#': '600'", "'12': '600'"), /ivrs\[0\]\.options\.12: an option is one key/],
    [SMALL.replace("'#': '600'", "'#': '999'"), /999 is not a number of this PBX/],
    [SMALL.replace('strategy: Hunt', 'strategy: Random'), /queues\[0\]\.strategy: must be one of RingAll, Hunt/],
    [SMALL.replace('firstName: Ada', 'first: Ada'), /users\[0\]\.first: unknown field/],
    [SMALL.replace('firstName: Ada,', ''), /users\[0\]: 'firstName' is required/],
    [`${SMALL}\nnope: 1`, /nope: unknown section/],
    [SMALL.replace('Contacts:', 'Nopes:'), /entities\.Nopes: is not an XAPI entity set/],
    [SMALL.replace('FirstName: Grace', 'Bogus: 1'), /entities\.Contacts\[0\]: The property 'Bogus' does not exist on type 'Pbx.Contact'/],
    [SMALL.replace('Contacts:\n', 'Contacts: 1\n').replace(/\n {4}- .*$/m, ''), /entities\.Contacts: must be a list of records/],
    ['users: [', /^x\.yaml:1: /],
    ['- 1', /a PBX definition is a mapping/],
    ['users: []\ntrunks: []', /'users' must list at least one entry/],
    [SMALL.replace('ringGroups:\n  -', 'ringGroups: 5\n  #'), /ringGroups: must be a list/],
    [SMALL.replace('  - { number: \'500\'', '  - 5\n  - { number: \'500\''), /queues\[0\]: must be a mapping/]
  ]
  for (const [text, message] of cases) {
    const err = (() => { try { parsePbxDefinition(text, 'x.yaml'); return null } catch (e) { return e } })()
    t.type(err, PbxDefinitionError, String(message))
    t.match((err as Error | null)?.message, message)
  }
  t.throws(() => loadPbxDefinition('/nonexistent/pbx.yaml'), /nonexistent\/pbx\.yaml: cannot be read \(ENOENT\)/)
})

t.test('--state keeps created and changed entities across restarts', async (t) => {
  const dir = t.testdir()
  const statePath = path.join(dir, 'state.json')
  const first = await createSimulator({ statePath })
  const token = await fetchToken(first.url)
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  t.equal((await fetch(`${first.url}/xapi/v1/Contacts`, { method: 'POST', headers, body: JSON.stringify({ FirstName: 'Kept' }) })).status, 201)
  t.equal((await fetch(`${first.url}/xapi/v1/Users(2)`, { method: 'PATCH', headers, body: JSON.stringify({ FirstName: 'Tommy' }) })).status, 204)
  await first.close()
  const second = await createSimulator({ statePath })
  t.teardown(async () => { await second.close() })
  const token2 = await fetchToken(second.url)
  const get = async (p: string): Promise<any> => await (await fetch(`${second.url}/xapi/v1/${p}`, { headers: { authorization: `Bearer ${token2}` } })).json()
  t.same((await get("Contacts?$filter=FirstName eq 'Kept'&$select=FirstName")).value, [{ FirstName: 'Kept' }])
  t.equal((await get('Users(2)?$select=FirstName')).FirstName, 'Tommy')
  await writeFile(path.join(dir, 'bad.json'), '{"version":2}')
  t.throws(() => loadState(path.join(dir, 'bad.json')), /version 1 expected/)
  await writeFile(path.join(dir, 'worse.json'), 'nope')
  t.throws(() => loadState(path.join(dir, 'worse.json')), /not a simulator state file/)
})

t.test('sim snapshot writes a definition the simulator runs', async (t) => {
  const sim = await createSimulator()
  t.teardown(async () => { await sim.close() })
  const dir = t.testdir()
  const out: string[] = []
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) } }
  const file = path.join(dir, 'pbx.yaml')
  t.equal(await runSnapshot(['--out', file, '--url', sim.url, '--client-id', '599', '--secret', 'sim-secret'], io, {}), 0, out.join(''))
  const text = await readFile(file, 'utf8')
  t.notMatch(text, /sim-secret[^\n]*\n[\s\S]*sim-secret/, 'the secret appears once, as the placeholder')
  t.notMatch(text, /Garcia|\+15550101/, 'names and numbers are pseudonymised')
  const def = parsePbxDefinition(text, file)
  t.equal(def.users.length, 20)
  t.match(def.dids, [{ to: '900' }, { to: '800' }, { to: '102' }, { to: '700' }, { to: '599' }])
  const directory = definitionToDirectory(def)
  t.equal(directory.queues[0].Agents.length, 3)
  t.equal(await runSnapshot(['--out', path.join(dir, 'keep.yaml'), '--keep-names'], io, { PBX_URL: sim.url, PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'sim-secret' }), 0)
  t.match(await readFile(path.join(dir, 'keep.yaml'), 'utf8'), /Garcia/)
  t.equal(await runSnapshot(['--out', file, '--url', sim.url, '--client-id', '599', '--secret', 'wrong'], io, {}), 1)
  t.match(out.join(''), /refused the API client/)
  t.equal(await runSnapshot([], io, {}), 2)
  t.equal(await runSnapshot(['--bogus'], io, {}), 2)
})

t.test('sim snapshot writes the client\'s monitored DNs read from its ServicePrincipal\'s Peers', async (t) => {
  const text = SMALL.replace("monitored: ['200']", "monitored: ['200', '500', '20000']")
  const sim = await createSimulator({ pbx: parsePbxDefinition(text, 'small.yaml') })
  t.teardown(async () => { await sim.close() })
  const token = await fetchToken(sim.url, '700', 'other-secret')
  const principals = await (await fetch(`${sim.url}/xapi/v1/ServicePrincipals?$expand=Peers`, { headers: { authorization: `Bearer ${token}` } })).json() as any
  t.match(principals.value, [{ Number: '700', XAPIEnabled: true, CallControlEnabled: true, Peers: [{ Number: '200', Type: 'Extension' }, { Number: '500', Type: 'Queue' }, { Number: '20000', Type: 'ExternalLine' }] }])
  t.notMatch(JSON.stringify(principals), /other-secret/, 'no secret in the XAPI answer')
  const dir = t.testdir()
  const file = path.join(dir, 'pbx.yaml')
  const io = { stdout: { write: () => true }, stderr: { write: () => true } }
  t.equal(await runSnapshot(['--out', file, '--url', sim.url, '--client-id', '700', '--secret', 'other-secret'], io, {}), 0)
  const written = await readFile(file, 'utf8')
  t.notMatch(written, /Byron|\+15559990001|other-secret/, 'still pseudonymised, no secret')
  t.same(parsePbxDefinition(written, file).apiClients, [{ clientId: '700', secret: 'sim-secret', role: 'SystemOwner', monitored: ['200', '500', '20000'] }])
  t.same(monitoredOf(null, '700', ['200']), 'all', 'a PBX that does not list its clients leaves the definition at all')
  t.same(monitoredOf([{ Number: '700', Peers: [{ Number: '200' }, { Number: '+15550000' }, { Number: '700' }] }], '700', ['200', '700']), ['200'], 'only DNs of the definition, never the client itself')
})

t.test('--pbx / SIM_PBX options and demo credentials', async (t) => {
  t.same(simulatorFileOptions({}, {}), {})
  const client = { clientId: '599', clientSecret: 'sim-secret' }
  t.equal(simulatorFileOptions({ state: 's.json' }, { SIM_PBX: DEFAULT_PBX_FILE }, client).statePath, 's.json')
  t.same(client, { clientId: '599', clientSecret: 'sim-secret' }, 'a matching client is kept')
  const dir = t.testdir()
  await writeFile(path.join(dir, 'small.yaml'), SMALL)
  t.ok(simulatorFileOptions({ pbx: path.join(dir, 'small.yaml') }, {}, client).pbx)
  t.same(client, { clientId: '700', clientSecret: 'other-secret' }, 'demo mode uses the definition\'s client')
})
