// The Docker health check reaches /readyz over http, and over https when the gateway serves TLS.
import t from 'tap'
import path from 'node:path'
import { Writable } from 'node:stream'
import { isReady, readyzUrl } from '../src/healthcheck.js'
import { loadConfig } from '../src/config.js'
import { startGateway } from '../src/server.js'
import { selfSignedCertificate } from './self-signed-cert.js'

const quiet = (): Writable => new Writable({ write (_c, _e, cb) { cb() } })

t.test('readyzUrl: loopback for a wildcard HOST, https with TLS_CERT, default port 8080', async (t) => {
  t.equal(readyzUrl({}), 'http://127.0.0.1:8080/readyz')
  t.equal(readyzUrl({ HOST: '0.0.0.0', PORT: '9000', TLS_CERT: '/etc/cert.pem' }), 'https://127.0.0.1:9000/readyz')
  t.equal(readyzUrl({ HOST: '::' }), 'http://127.0.0.1:8080/readyz')
  t.equal(readyzUrl({ HOST: '::1', PORT: '81' }), 'http://[::1]:81/readyz')
  t.equal(readyzUrl({ HOST: '10.0.0.5' }), 'http://10.0.0.5:8080/readyz')
})

t.test('a TLS gateway is healthy over https (and not over http); nothing listening is unhealthy', async (t) => {
  const { cert, key } = selfSignedCertificate()
  const dir = t.testdir({ 'cert.pem': cert, 'key.pem': key })
  const env = { PORT: '0', DATA_DIR: path.join(dir, 'data'), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'off', TLS_CERT: path.join(dir, 'cert.pem'), TLS_KEY: path.join(dir, 'key.pem') }
  const gw = await startGateway(loadConfig(env), { logStream: quiet() })
  await gw.services.pbx.callControl.ready()
  const port = new URL(gw.url).port
  t.equal(await isReady(readyzUrl({ ...env, PORT: port })), true, 'https with a self-signed certificate')
  t.equal(await isReady(readyzUrl({ PORT: port })), false, 'plain http to a TLS port fails: the check must follow TLS_CERT')
  await gw.close()
  t.equal(await isReady(readyzUrl({ ...env, PORT: port }), 1000), false, 'closed: unhealthy')
})
