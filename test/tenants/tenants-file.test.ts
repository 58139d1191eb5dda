// TENANTS_FILE: a valid file becomes one configuration per tenant (secrets from ${VAR}); every
// mistake is reported with the file, line and field, all at once, and never with a secret in it.
import t from 'tap'
import path from 'node:path'
import { ConfigError, loadConfig } from '../../src/config.js'
import { loadTenantsFile, parseTenantsFile } from '../../src/tenants/tenants-file.js'
import { tenantConfig } from '../../src/tenants/tenant-config.js'

const ENV = {
  ACME_SECRET: 'acme-pbx-secret',
  ACME_KEY: 'acme-key-0123456789abcdef',
  BETA_KEY: 'beta-key-0123456789abcdef',
  WHSEC: 'whsec_' + Buffer.alloc(32, 7).toString('base64')
}

const GOOD = `tenants:
  - id: acme
    pbx:
      url: https://acme.3cx.example/
      clientId: '599'
      clientSecret: \${ACME_SECRET}
      timezone: Europe/Berlin
    keys:
      - key: \${ACME_KEY}
        scope: control
    webhooks:
      - name: crm
        url: https://crm.acme.example/3cx
        secret: \${WHSEC}
        events: [ringing, ended]
  - id: beta
    pbx: { url: 'https://beta.3cx.example', clientId: '600', clientSecret: plain-secret }
    keys: [{ key: '\${BETA_KEY}', scope: read }]
    recordings: 'off'
`

function problemsOf (text: string, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    parseTenantsFile(text, 'tenants.yaml', env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('a valid file: each tenant with its PBX, keys, targets and secrets from the environment', async (t) => {
  const tenants = parseTenantsFile(GOOD, 'tenants.yaml', ENV)
  t.same(tenants.map((x) => x.id), ['acme', 'beta'])
  t.same(tenants[0].pbx, { url: 'https://acme.3cx.example', clientId: '599', clientSecret: 'acme-pbx-secret', timezone: 'Europe/Berlin' })
  t.same(tenants[0].keys, [{ key: ENV.ACME_KEY, scope: 'control' }])
  t.same(tenants[0].webhooks[0].events, ['ringing', 'ended'])
  t.same(tenants[0].webhooks[0].secrets, [ENV.WHSEC])
  t.same(tenants[1].keys, [{ key: ENV.BETA_KEY, scope: 'read' }])

  const dir = t.testdir({ 'tenants.yaml': GOOD })
  const base = loadConfig({ TENANTS_FILE: path.join(dir, 'tenants.yaml'), DATA_DIR: dir, PUBLIC_URL: 'https://gw.example' })
  t.equal(base.demo, false, 'a tenants file is not demo mode')
  t.same(base.keys, [], 'GATEWAY_KEYS is not needed')
  const acme = tenantConfig(base, loadTenantsFile(base.tenantsFile ?? '', ENV)[0])
  t.equal(acme.dataDir, path.join(dir, 'tenants', 'acme'), 'SQLite under DATA_DIR/tenants/<id>/')
  t.equal(acme.recordings.mp3Dir, path.join(dir, 'tenants', 'acme', 'mp3'))
  t.equal(acme.publicUrl, 'https://gw.example/t/acme', 'recording links carry the tenant prefix')
  t.equal(acme.pbx.timezone, 'Europe/Berlin')
  t.equal(acme.tenantId, 'acme')
})

t.test('mistakes are named by file, line and field, all at once', async (t) => {
  const text = `tenants:
  - id: Acme!
    pbx:
      url: ftp://acme
      clientId: abc
      clientSecret: \${MISSING_SECRET}
    keys:
      - key: short
      - key: \${ACME_KEY}
      - key: another-key-0123456789
        scope: admin
    webhooks:
      - name: crm
        url: not-a-url
        secret: nope
        events: [hangup]
      - name: crm
        url: https://x.example
  - id: beta
    pbx: { url: 'https://b.example', clientId: '1', clientSecret: s }
    keys: [{ key: '\${ACME_KEY}' }]
  - id: beta
    pbx: { url: 'https://b.example', clientId: '1', clientSecret: s, color: red }
    keys: []
`
  const problems = problemsOf(text)
  const expect = [
    /^tenants\.yaml:2: tenants\[0\]\.id: "Acme!" is not a tenant id/,
    /^tenants\.yaml:4: tenants\[0\]\.pbx\.url: expected the PBX's https:\/\/ URL/,
    /^tenants\.yaml:5: tenants\[0\]\.pbx\.clientId: expected the numeric client id/,
    /^tenants\.yaml:6: tenants\[0\]\.pbx\.clientSecret: \$\{MISSING_SECRET\} is not set in the environment$/,
    /^tenants\.yaml:8: tenants\[0\]\.keys\[0\]\.key: the key is 5 characters long/,
    /^tenants\.yaml:11: tenants\[0\]\.keys\[2\]\.scope: must be one of read, control/,
    /^tenants\.yaml:14: tenants\[0\]\.webhooks\[0\]\.url: expected an http\(s\) URL/,
    /^tenants\.yaml:15: tenants\[0\]\.webhooks\[0\]\.secret: secret #1 must be "whsec_"/,
    /^tenants\.yaml:16: tenants\[0\]\.webhooks\[0\]\.events: "hangup" is not one of/,
    /^tenants\.yaml:17: tenants\[0\]\.webhooks\[1\]\.name: target name "crm" is used twice/,
    /^tenants\.yaml:21: tenants\[1\]\.keys\[0\]\.key: this key is already a key of tenant "Acme!"/,
    /^tenants\.yaml:22: tenants\[2\]\.id: tenant id "beta" is already used by tenants\[1\]/,
    /^tenants\.yaml:23: tenants\[2\]\.pbx\.color: unknown field/,
    /^tenants\.yaml:24: tenants\[2\]\.keys: list at least one key/
  ]
  for (const re of expect) t.ok(problems.some((p) => re.test(p)), `${String(re)}\n  in:\n  ${problems.join('\n  ')}`)
  t.notOk(problems.join('\n').includes(ENV.ACME_KEY), 'no key in any message')
})

t.test('a file that is not a tenants list, a YAML syntax error, a missing file', async (t) => {
  t.match(problemsOf('tenants: []\n')[0], /^tenants\.yaml:1: a tenants file is a mapping with a list `tenants:`/)
  t.match(problemsOf('tenants:\n  - id: a\n    pbx: [\n')[0], /^tenants\.yaml:\d+: /)
  t.match(problemsOf('tenant:\n  - id: a\n')[0], /a tenants file is a mapping/)
  t.throws(() => loadTenantsFile('/nonexistent/tenants.yaml'), /TENANTS_FILE: \/nonexistent\/tenants\.yaml cannot be read \(ENOENT\)/)
})

t.test('without TENANTS_FILE the single-PBX configuration is unchanged', async (t) => {
  const c = loadConfig({ PBX_URL: 'https://pbx.example', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 's', GATEWAY_KEYS: ENV.ACME_KEY })
  t.equal(c.tenantsFile, null)
  t.equal(c.tenantId, undefined)
  t.throws(() => loadConfig({ PBX_URL: 'https://pbx.example', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 's' }), /GATEWAY_KEYS: required/)
})
