import t from 'tap'
import { ConfigError, DEFAULT_RETRY_SCHEDULE_MS, describeConfig, loadConfig, parseDuration } from '../src/config.js'
import { replicaTiming } from '../src/replicas/replica-timing.js'

const KEY = '0123456789abcdef0123456789abcdef'
const PBX = { PBX_URL: 'https://pbx.example.com:5001/', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 's3cret-value', GATEWAY_KEYS: KEY }

function problems (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('no PBX_URL means demo mode with loopback, key demo and the simulator client', async (t) => {
  const c = loadConfig({})
  t.equal(c.demo, true)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8080)
  t.same(c.keys, [{ key: 'demo', scope: 'control' }])
  t.equal(c.pbx.clientId, '599')
  t.equal(c.demoTrafficPerMinute, 4)
  t.equal(c.simPort, 0, 'the demo simulator takes any free port unless SIM_PORT says otherwise')
  t.same(c.webhooks.retrySchedule, DEFAULT_RETRY_SCHEDULE_MS)
  t.equal(loadConfig({ SIM_PORT: '5001' }).simPort, 5001)
  t.match(problems({ SIM_PORT: 'high' }), [/^SIM_PORT: expected a whole number from 0 to 65535/])
})

t.test('only the HTTP server needs keys; the demo key only exists for it', async (t) => {
  const { GATEWAY_KEYS: _unused, ...noKeys } = PBX
  t.same(loadConfig(noKeys, { serving: false }).keys, [], 'doctor/export on a PBX: no GATEWAY_KEYS needed')
  t.same(loadConfig({}, { serving: false }).keys, [], 'demo mode without the server: no well-known key')
  t.match(problems({ ...noKeys }).join('\n'), /GATEWAY_KEYS: required/, 'serve still needs them')
  t.throws(() => loadConfig({ ...noKeys, GATEWAY_KEYS: 'abc' }, { serving: false }), /at least 16/, 'keys that are given are still checked')
})

t.test('a PBX configuration is read into typed values', async (t) => {
  const c = loadConfig({
    ...PBX,
    GATEWAY_KEYS: `${KEY}:read, ${KEY}X:control`,
    PORT: '9090',
    WEBHOOK_URLS: 'https://a.example/h,https://b.example/h',
    WEBHOOK_RECORDING_URLS: 'https://rec.example/h',
    WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    WEBHOOK_FORMAT: 'FORM',
    WEBHOOK_RETRY_SCHEDULE: '0,50ms,1s,2m,1h',
    WEBHOOK_INTERNAL_CALLS: 'off',
    PBX_TIMEZONE: 'Europe/Berlin',
    RECORDINGS_SOURCE: 'dir'
  })
  t.equal(c.demo, false)
  t.equal(c.pbx.url, 'https://pbx.example.com:5001')
  t.equal(c.host, '0.0.0.0')
  t.equal(c.port, 9090)
  t.same(c.keys.map((k) => k.scope), ['read', 'control'])
  t.equal(c.webhooks.targets.length, 3)
  t.same(c.webhooks.targets.map((x) => x.name), ['webhook1', 'webhook2', 'recording1'])
  t.same(c.webhooks.targets[2].events, ['recording'])
  t.equal(c.webhooks.targets[0].format, 'form')
  t.same(c.webhooks.retrySchedule, [0, 50, 1000, 120_000, 3_600_000])
  t.equal(c.webhooks.internalCalls, false)
  t.equal(c.recordings.dir, '/var/lib/3cxpbx/Instance1/Data/Recordings')
})

t.test('every problem is reported at once, one line per variable, without echoing secrets', async (t) => {
  const p = problems({
    PBX_URL: 'not a url',
    PBX_CLIENT_SECRET: 'x',
    GATEWAY_KEYS: 'short',
    PORT: '70000',
    WEBHOOK_FORMAT: 'xml',
    WEBHOOK_SECRET: 'whsec_tooshort',
    PBX_TIMEZONE: 'Mars/Olympus',
    LOG_LEVEL: 'loud',
    WEBHOOK_RETRY_SCHEDULE: '5s,soon',
    TLS_CERT: '/x.pem'
  })
  const text = p.join('\n')
  for (const v of ['PBX_URL', 'PBX_CLIENT_ID', 'GATEWAY_KEYS', 'PORT', 'WEBHOOK_FORMAT', 'WEBHOOK_SECRET', 'PBX_TIMEZONE', 'LOG_LEVEL', 'WEBHOOK_RETRY_SCHEDULE', 'TLS_CERT']) {
    t.match(text, v, `${v} is reported`)
  }
  t.notMatch(text, 'tooshort', 'a secret value is not echoed')
  t.notMatch(text, /short"/, 'a key value is not echoed')
})

t.test('outside demo mode keys are required and must be long enough', async (t) => {
  t.match(problems({ ...PBX, GATEWAY_KEYS: '' }).join('\n'), /GATEWAY_KEYS: required/)
  t.match(problems({ ...PBX, GATEWAY_KEYS: 'abc' }).join('\n'), /at least 16/)
  t.match(problems({ ...PBX, GATEWAY_KEYS: `${KEY}:admin` }).join('\n'), /scope "admin"/)
  t.match(problems({ ...PBX, PBX_CLIENT_ID: 'abc' }).join('\n'), /numeric client id/)
})

t.test('the same key twice is refused (it would act with the wider scope), without echoing it', async (t) => {
  const dup = problems({ ...PBX, GATEWAY_KEYS: `${KEY}:read,${KEY}:control` })
  t.equal(dup.length, 1)
  t.match(dup[0], /GATEWAY_KEYS: key #2 is the same key as key #1; list each key once/)
  t.notMatch(dup.join('\n'), KEY)
  t.equal(problems({ ...PBX, GATEWAY_KEYS: `${KEY}, ${KEY}` }).length, 1, 'also without scopes')
  t.same(loadConfig({ ...PBX, GATEWAY_KEYS: `${KEY}:read,${KEY}X:control` }).keys.map((k) => k.scope), ['read', 'control'], 'different keys are fine')
})

t.test('TRUST_PROXY: off, on (a proxy on this machine) or the proxies\' addresses; never "trust everyone"', async (t) => {
  const trust = (v: string | undefined): unknown => loadConfig({ ...PBX, TRUST_PROXY: v }).trustProxy
  t.equal(trust(undefined), false)
  for (const v of ['off', 'false', '0', 'no']) t.equal(trust(v), false, v)
  for (const v of ['on', 'true', '1', 'yes']) t.same(trust(v), ['loopback'], v)
  t.same(trust('10.0.0.5, 10.0.1.0/24,::1,fd00::/8 uniquelocal'), ['10.0.0.5', '10.0.1.0/24', '::1', 'fd00::/8', 'uniquelocal'])
  for (const v of ['2', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/1', '300.1.1.1']) {
    t.match(problems({ ...PBX, TRUST_PROXY: v }).join('\n'), /TRUST_PROXY: .* is not an IP address, a CIDR range or loopback/, v)
  }
})

t.test('WEBHOOK_TARGETS adds targets with their own filters', async (t) => {
  const c = loadConfig({ ...PBX, WEBHOOK_TARGETS: JSON.stringify([{ name: 'crm', url: 'https://crm.example/h', format: 'get', events: ['ended'], extensions: ['101'] }]) })
  t.same(c.webhooks.targets[0], { name: 'crm', url: 'https://crm.example/h', format: 'get', eventNames: 'legacy', secrets: [], events: ['ended'], extensions: ['101'], didRules: [] })
  t.match(problems({ ...PBX, WEBHOOK_TARGETS: '{' }).join('\n'), /JSON array/)
  t.match(problems({ ...PBX, WEBHOOK_TARGETS: '[{"url":"ftp://x"}]' }).join('\n'), /\.url/)
  t.match(problems({ ...PBX, WEBHOOK_TARGETS: '[{"url":"https://x","events":["nope"]}]' }).join('\n'), /"nope"/)
  t.match(problems({ ...PBX, WEBHOOK_URLS: 'https://a', WEBHOOK_TARGETS: '[{"name":"webhook1","url":"https://x"}]' }).join('\n'), /used twice/)
})

t.test('describeConfig masks every secret', async (t) => {
  const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`
  const c = loadConfig({ ...PBX, WEBHOOK_URLS: 'https://user:pw@crm.example/h', WEBHOOK_SECRET: secret })
  const text = JSON.stringify(describeConfig(c))
  t.notMatch(text, KEY)
  t.notMatch(text, 's3cret-value')
  t.notMatch(text, secret)
  t.notMatch(text, ':pw@')
  t.match(text, '"clientSecret":"***"')
})

t.test('parseDuration', async (t) => {
  t.equal(parseDuration('250'), 250)
  t.equal(parseDuration('1.5s'), 1500)
  t.equal(parseDuration('2m'), 120_000)
  t.equal(parseDuration('1h'), 3_600_000)
  t.equal(parseDuration('soon'), null)
})

t.test('DATABASE_URL selects PostgreSQL; unset keeps SQLite; a bad one is refused without its password', async (t) => {
  t.equal(loadConfig(PBX).databaseUrl, null, 'unset: SQLite in DATA_DIR')
  t.equal(describeConfig(loadConfig(PBX)).database, 'sqlite')
  const url = 'postgres://gw:Pa55-word@db.example.com:5432/gateway'
  const c = loadConfig({ ...PBX, DATABASE_URL: url })
  t.equal(c.databaseUrl, url)
  t.equal(describeConfig(c).database, 'postgres://gw:***@db.example.com:5432/gateway')
  t.notMatch(JSON.stringify(describeConfig(c)), 'Pa55-word')
  for (const [bad, says] of [
    ['mysql://gw:Pa55-word@db/gateway', /only PostgreSQL/],
    ['postgres://gw:Pa55-word@db.example.com:5432/', /names no database/],
    ['postgres//gw:Pa55-word@db', /is not a URL/]
  ] as const) {
    const p = problems({ ...PBX, DATABASE_URL: bad }).join('\n')
    t.match(p, says, bad.replace('Pa55-word', '…'))
    t.match(p, /DATABASE_URL: .*postgres:\/\/USER:PASSWORD@HOST/)
    t.notMatch(p, 'Pa55-word', 'the password is never in the message')
  }
})

t.test('REPLICA_LEASE_MS sets the stream lease, and every other replica timing in proportion', async (t) => {
  t.equal(loadConfig(PBX).replicaLeaseMs, 5000, 'default 5 s')
  t.equal(loadConfig({ ...PBX, REPLICA_LEASE_MS: '2000' }).replicaLeaseMs, 2000)
  t.equal(describeConfig(loadConfig({ ...PBX, DATABASE_URL: 'postgres://gw@db/gateway', REPLICA_LEASE_MS: '1500' })).replicaLeaseMs, 1500, 'shown by config check')
  for (const bad of ['five', '999', '0', '2.5', '60001']) {
    t.match(problems({ ...PBX, REPLICA_LEASE_MS: bad }).join('\n'), `REPLICA_LEASE_MS: expected a whole number from 1000 to 60000, got "${bad}"`, bad)
  }
  // The default reproduces the timings the replicas had before the setting existed.
  t.same(replicaTiming(5000), { leaseMs: 5000, renewMs: 1000, heartbeatTtlMs: 4000, spread: { everyMs: 1000, settleMs: 3000, minHoldMs: 10_000, orphanGraceMs: 2000 } })
  t.same(replicaTiming(2000), { leaseMs: 2000, renewMs: 400, heartbeatTtlMs: 1600, spread: { everyMs: 400, settleMs: 1200, minHoldMs: 4000, orphanGraceMs: 800 } })
})

t.test('RECORDINGS_SETTLE_MS: how long a recorded leg waits for more files; a bad value is refused', async (t) => {
  t.equal(loadConfig(PBX).recordings.settleMs, 3000, 'default 3 s (3CX writes the files up to ~2 s after the call)')
  t.equal(loadConfig({ ...PBX, RECORDINGS_SETTLE_MS: '250' }).recordings.settleMs, 250)
  t.equal(loadConfig({ ...PBX, RECORDINGS_SETTLE_MS: '0' }).recordings.settleMs, 0)
  for (const bad of ['soon', '-1', '1.5', '600001']) t.match(problems({ ...PBX, RECORDINGS_SETTLE_MS: bad }).join('\n'), /RECORDINGS_SETTLE_MS/, bad)
})

t.test('DATABASE_POOL_MAX sizes each PostgreSQL pool; a bad value is refused with a sentence', async (t) => {
  t.equal(loadConfig(PBX).databasePoolMax, 10, 'default 10')
  t.equal(loadConfig({ ...PBX, DATABASE_POOL_MAX: '3' }).databasePoolMax, 3)
  t.equal(describeConfig(loadConfig({ ...PBX, DATABASE_URL: 'postgres://gw@db/gateway', DATABASE_POOL_MAX: '4' })).databasePoolMax, 4, 'shown by config check')
  for (const bad of ['ten', '1', '0', '-5', '2.5', '100000']) {
    t.match(problems({ ...PBX, DATABASE_POOL_MAX: bad }).join('\n'), `DATABASE_POOL_MAX: expected a whole number from 2 to 1000, got "${bad}" (each pool needs one connection for queries besides the one a standby holds for LISTEN)`, bad)
  }
})

t.test('RECORDINGS_GIVE_UP_MS: how long a leg\'s recording is looked for; a bad value is refused with a sentence', async (t) => {
  t.equal(loadConfig(PBX).recordings.giveUpMs, 15_000, 'default 15 s')
  t.equal(loadConfig({ ...PBX, RECORDINGS_GIVE_UP_MS: '4000' }).recordings.giveUpMs, 4000)
  t.match(describeConfig(loadConfig({ ...PBX, RECORDINGS_GIVE_UP_MS: '60000' })), { recordings: { giveUpMs: 60_000 } }, 'shown by config check')
  for (const bad of ['soon', '2999', '0', '-1', '1.5', '3600001']) {
    t.match(problems({ ...PBX, RECORDINGS_GIVE_UP_MS: bad }).join('\n'), `RECORDINGS_GIVE_UP_MS: expected a whole number from 3000 to 3600000, got "${bad}" (3CX writes a recording up to ~2 s after the call`, bad)
  }
})

t.test('SHUTDOWN_TIMEOUT_MS bounds the stop on a signal (under Docker\'s 10 s); a bad value is refused with a sentence', async (t) => {
  t.equal(loadConfig(PBX).shutdownTimeoutMs, 8000, 'default 8 s')
  t.equal(loadConfig({ ...PBX, SHUTDOWN_TIMEOUT_MS: '25000' }).shutdownTimeoutMs, 25_000)
  t.match(describeConfig(loadConfig({ ...PBX, SHUTDOWN_TIMEOUT_MS: '3000' })), { shutdownTimeoutMs: 3000 }, 'shown by config check')
  for (const bad of ['soon', '999', '0', '-1', '8s', '1.5', '600001']) {
    t.match(problems({ ...PBX, SHUTDOWN_TIMEOUT_MS: bad }).join('\n'), `SHUTDOWN_TIMEOUT_MS: expected a whole number from 1000 to 600000, got "${bad}" (keep it below your supervisor's stop timeout: Docker's default is 10 s)`, bad)
  }
})
