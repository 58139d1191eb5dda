import https from 'node:https'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { loadConfig, type Config } from '../src/config.js'
import { runDoctor } from '../src/doctor.js'
import { selfSignedCertificate } from './self-signed-cert.js'
import { closedPortUrl, startSim } from './pbx/pbx-fixture.js'
import { PBX } from './sim/pbx-under-test.js'

function configFor (url: string, secret = PBX.secret): Config {
  return loadConfig({ PBX_URL: url, PBX_CLIENT_ID: PBX.clientId, PBX_CLIENT_SECRET: secret, GATEWAY_KEYS: 'k'.repeat(16), PBX_TIMEOUT_MS: '3000' })
}

async function doctor (config: Config): Promise<{ code: number, lines: string[], line: (label: string) => string }> {
  const lines: string[] = []
  const code = await runDoctor(config, (l) => lines.push(l), { webSocketTimeoutMs: 3000 })
  return { code, lines, line: (label) => lines.find((l) => l.slice(2).startsWith(`${label}:`)) ?? `(no ${label} line)` }
}

t.test('passes against the simulator', async (t) => {
  const sim = await startSim(t)
  const { code, lines, line } = await doctor(configFor(sim.url))
  t.equal(code, 0, lines.join('\n'))
  for (const label of ['DNS', 'TCP', 'HTTP', 'Token', 'XAPI', 'System Owner', 'Call Control', 'WebSocket', 'Monitored DNs']) {
    t.match(line(label), /^✓ /, label)
  }
  t.match(line('TLS'), /^– TLS: not used/)
  t.match(line('XAPI'), /3CX 20\.\d/)
  t.match(lines.at(-1), 'All checks passed.')
  t.notOk(lines.join('\n').includes(PBX.secret))
})

t.test('a wrong secret: the token check fails with advice, the rest is skipped', async (t) => {
  const sim = await startSim(t)
  const { code, lines, line } = await doctor(configFor(sim.url, 'not-the-secret'))
  t.equal(code, 1)
  t.match(line('Token'), /^✗ Token: .*PBX_CLIENT_ID and PBX_CLIENT_SECRET \(Admin > Integrations > API/)
  for (const label of ['XAPI', 'System Owner', 'Call Control', 'WebSocket', 'Monitored DNs']) t.match(line(label), /^- .*skipped/, label)
  t.notOk(lines.join('\n').includes('not-the-secret'), 'the secret is never printed')
})

t.test('an unreachable PBX: TCP fails with advice about the port and allow-list', async (t) => {
  const { code, line } = await doctor(configFor(await closedPortUrl()))
  t.equal(code, 1)
  t.match(line('DNS'), /^✓ /)
  t.match(line('TCP'), /^✗ TCP: cannot connect .*ECONNREFUSED.*port in PBX_URL.*Console Restrictions/)
  for (const label of ['TLS', 'HTTP', 'Token', 'XAPI', 'Call Control', 'WebSocket']) t.match(line(label), /^- .*skipped/, label)
})

t.test('a client without Call Control access', async (t) => {
  const sim = await startSim(t)
  sim.ctx.directory.apiClients[0].callControl = false
  const { code, line } = await doctor(configFor(sim.url))
  t.equal(code, 1)
  t.match(line('Token'), /^✓ /)
  t.match(line('Call Control'), /^✗ Call Control: .*403.*3CX Call Control API Access/)
  t.match(line('WebSocket'), /^- .*skipped/)
  t.match(line('Monitored DNs'), /^- .*skipped/)
})

t.test('a System Admin client fails only the System Owner check', async (t) => {
  const sim = await startSim(t)
  sim.ctx.directory.apiClients[0].role = 'SystemAdmin'
  const { code, line, lines } = await doctor(configFor(sim.url))
  t.equal(code, 1, lines.join('\n'))
  t.match(line('XAPI'), /^✓ /)
  t.match(line('System Owner'), /^✗ .*System Owner role/)
})

t.test('unmonitored extensions are listed as a warning', async (t) => {
  const sim = await startSim(t)
  // The PBX's numbers (SIM_PBX): two users and a queue, mapped by role on another PBX than the default.
  const watched = ['100', '101', '800'].map((n) => PBX.n(n))
  sim.ctx.directory.apiClients[0].monitored = watched
  const users = PBX.definition.users.map((u) => u.number)
  const unwatched = users.filter((u) => !watched.includes(u))
  const { code, line, lines } = await doctor(configFor(sim.url))
  t.equal(code, 0, lines.join('\n'))
  t.match(line('Monitored DNs'), `! Monitored DNs: ${unwatched.length} of ${users.length} extensions are not monitored (${unwatched.slice(0, 2).join(', ')}, `, '18 of 20 (102, 103, …) on the default PBX')
  t.match(line('Monitored DNs'), /extensions to monitor/)
})

t.test('a PBX whose TLS certificate is not trusted: TLS fails with advice', async (t) => {
  // The certificate is made in-process (no openssl CLI), so this check always runs.
  const server = https.createServer(selfSignedCertificate(), (_req, res) => { res.end() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })
  const { code, line } = await doctor(configFor(`https://127.0.0.1:${(server.address() as AddressInfo).port}`))
  t.equal(code, 1)
  t.match(line('TCP'), /^✓ /)
  t.match(line('TLS'), /^✗ TLS: the certificate was not accepted \(DEPTH_ZERO_SELF_SIGNED_CERT\) — use the PBX's FQDN/)
  t.match(line('Token'), /^- .*skipped/)
})
