// TENANTS_FILE read again on SIGHUP: an invalid edit keeps the running tenants and logs its
// file:line problems (no secret); a valid one applies (a key rotated in place, a tenant removed).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { KEYS, api, startTwoTenants } from './two-tenants.js'
import { until } from '../pbx/pbx-fixture.js'

t.test('SIGHUP: an invalid file keeps serving, a valid one applies without a restart', async (t) => {
  let log = ''
  const logStream = new Writable({ write (c, _e, cb) { log += String(c); cb() } })
  const x = await startTwoTenants(t, {}, { watch: true, logStream })
  t.equal((await api(x.gw, '/pbx.calls.get', KEYS.acme)).status, 200)
  const hup = async (what: string, done: () => boolean): Promise<void> => {
    process.kill(process.pid, 'SIGHUP')
    await until(done, 20_000, what)
  }

  // Invalid: beta's PBX URL broken, acme's key changed in the same edit: nothing of it is applied.
  const rotatedKey = 'acme-rotated-0123456789abcdef'
  const invalid = x.text.replace('${ACME_KEY}', rotatedKey).replace(`url: '${x.sims.beta.url}'`, "url: 'ftp://beta.example'")
  writeFileSync(x.file, invalid)
  await hup('the problems logged', () => log.includes('has problems; the running tenants are kept'))
  const line = invalid.split('\n').findIndex((l) => l.includes('ftp://beta.example')) + 1
  t.match(log, `tenants.yaml:${line}: tenants[1].pbx.url: expected the PBX's https:// URL`, 'the problem as file:line: field')
  for (const secret of [x.vars.SIM_SECRET, KEYS.acme, KEYS.beta, rotatedKey]) t.notOk(log.includes(secret), 'no secret or key in the log')
  t.equal((await api(x.gw, '/pbx.calls.get', KEYS.acme)).status, 200, 'acme still served with its key')
  t.equal((await api(x.gw, '/pbx.calls.get', KEYS.beta)).status, 200, 'beta still served')
  t.same([...x.gw.tenants.keys()], ['acme', 'beta'])

  // Valid: acme's key rotated (its graph kept), beta removed. A console session opened with the old key ends with it.
  const login = await api(x.gw, '/console/api/login', undefined, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: KEYS.acme }) })
  t.equal(login.status, 200, login.text)
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  t.equal((await api(x.gw, '/console/api/session', undefined, { headers: { cookie } })).status, 200, 'a console session with acme\'s key')
  const acme = x.gw.tenants.get('acme')
  const valid = x.text.replace('${ACME_KEY}', rotatedKey)
  writeFileSync(x.file, valid.slice(0, valid.indexOf('  - id: beta')))
  await hup('beta removed', () => !x.gw.tenants.has('beta'))
  t.equal((await api(x.gw, '/pbx.calls.get', rotatedKey)).status, 200, 'the new key works')
  t.equal((await api(x.gw, '/pbx.calls.get', KEYS.acme)).status, 401, 'the old key is refused')
  t.equal((await api(x.gw, '/console/api/session', undefined, { headers: { cookie } })).status, 401, 'the session opened with the old key has ended')
  t.equal(x.gw.tenants.get('acme'), acme, 'acme kept its running service graph (keys swapped in place)')
  const gone = await api(x.gw, '/t/beta/pbx.calls.get', KEYS.beta)
  t.equal(gone.status, 404)
  t.match(JSON.parse(gone.text), { error: { code: 'UNKNOWN_TENANT' } })
  t.match(log, /the tenants changed \(removed: beta; keys changed: acme\)/)
})
