// `sim --tls`: the simulator serves https and wss on one port with a self-signed certificate that a
// client trusts by pinning it; --cert/--key serve your own; "down" still answers the control API.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { X509Certificate } from 'node:crypto'
import { Agent, fetch } from 'undici'
import WebSocket from 'ws'
import { createSimulator } from '../../src/sim/simulator.js'
import { selfSignedCertificate } from '../../src/sim/tls-cert.js'
import { simTlsFrom } from '../../src/sim/sim-tls-options.js'
import { until } from '../pbx/pbx-fixture.js'
import { main } from '../../src/cli.js'

t.test('https and wss on the same port, trusted by pinning the certificate', async (t) => {
  const tls = selfSignedCertificate()
  const sim = await createSimulator({ tls })
  t.teardown(async () => { await sim.close() })
  t.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const dispatcher = new Agent({ connect: { ca: tls.cert } })
  t.teardown(async () => { await dispatcher.close() })
  const token = await (await fetch(`${sim.url}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=599&client_secret=sim-secret',
    dispatcher
  })).json() as { access_token: string }
  const auth = { authorization: `Bearer ${token.access_token}` }
  const dns = await (await fetch(`${sim.url}/callcontrol`, { headers: auth, dispatcher })).json() as Array<{ dn: string }>
  t.ok(dns.some((d) => d.dn === '599'))

  const ws = new WebSocket(`${sim.url.replace(/^https/, 'wss')}/callcontrol/ws`, { headers: auth, ca: tls.cert })
  t.teardown(() => { ws.terminate() })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const first = new Promise<string>((resolve) => { ws.once('message', (d) => { resolve(String(d)) }) })
  await fetch(`${sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '101', to: '599', ringMs: 100 }), dispatcher })
  t.match(JSON.parse(await first), { event: { event_type: 0, entity: /^\/callcontrol\// } })

  const unpinned = await fetch(`${sim.url}/callcontrol`, { headers: auth }).then(() => 'trusted', (err: Error) => String((err.cause as Error | undefined)?.message ?? err.message))
  t.match(unpinned, /self.signed|certificate/i, 'an unpinned client refuses the self-signed certificate')

  const down = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ down: true, downForMs: 200 }), dispatcher })
  t.equal(down.status, 200, 'the control API answers even while the PBX goes down')
  await until(() => !sim.ctx.faults.settings.down, 5000, 'the PBX to be up again')
  const back = await fetch(`${sim.url}/callcontrol`, { headers: auth, dispatcher })
  t.equal(back.status, 200)
})

t.test('the generated certificate names the host, localhost and 127.0.0.1', async (t) => {
  const x = new X509Certificate(selfSignedCertificate('pbx.example.test').cert)
  t.equal(x.subject, 'CN=pbx.example.test')
  t.equal(x.subjectAltName, 'DNS:pbx.example.test, DNS:localhost, IP Address:127.0.0.1')
  t.ok(x.ca, 'usable as its own trust anchor')
})

t.test('sim TLS flags', async (t) => {
  t.same(await simTlsFrom({}, '127.0.0.1'), {})
  const generated = await simTlsFrom({ tls: true }, '0.0.0.0')
  t.match(new X509Certificate(generated.tls?.cert ?? '').subject, 'CN=localhost')
  t.match(await simTlsFrom({ cert: 'a.pem' }, 'h'), { error: /--cert and --key go together/ })
  t.match(await simTlsFrom({ cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' }, 'h'), { error: /cannot read/ })
  const dir = t.testdir()
  const own = selfSignedCertificate('own.test')
  await writeFile(path.join(dir, 'c.pem'), own.cert)
  await writeFile(path.join(dir, 'k.pem'), own.key)
  t.same(await simTlsFrom({ cert: path.join(dir, 'c.pem'), key: path.join(dir, 'k.pem') }, 'h'), { tls: own })

  const err: string[] = []
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => { err.push(s); return true } }, env: {} }
  t.equal(await main(['sim', '--key', 'k.pem'], io as never), 2)
  t.match(err.join(''), /--cert and --key go together/)
  t.equal(await main(['sim', '--tls=yes'], io as never), 2, '--tls takes no value')
})
