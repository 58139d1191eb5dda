// Recording links without PUBLIC_URL name the port the server bound: with PORT=0 they said
// `http://127.0.0.1:0/recordings/…`, a link nobody can open. One PBX and tenants, over real sockets.
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { startGateway } from '../src/server.js'
import { startTwoTenants } from './tenants/two-tenants.js'

const quiet = { write: () => true } as unknown as NodeJS.WritableStream

t.test('one PBX, PORT=0: the links name the bound port and reach the gateway', async (t) => {
  const gw = await startGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: t.testdir({}), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'xapi' }), { logStream: quiet })
  t.teardown(gw.close)
  t.notMatch(gw.url, /:0$/)
  const link = gw.services.recordings?.link({ token: 'A'.repeat(24), fileName: 'x-1.mp3' }) ?? ''
  t.equal(link, `${gw.url}/recordings/${'A'.repeat(24)}/x-1.mp3`)
  const r = await fetch(link)
  t.equal(r.status, 404, 'the gateway answers the link (no such recording), not a connection error')
  t.match(await r.json(), { error: { code: 'RECORDING_NOT_FOUND' } })
})

t.test('tenants, PORT=0: each tenant\'s links name the front server\'s bound port and the tenant', async (t) => {
  const x = await startTwoTenants(t, { RECORDINGS_SOURCE: 'xapi' })
  t.notMatch(x.gw.url, /:0$/)
  const link = x.gw.tenants.get('beta')?.services.recordings?.link({ token: 'B'.repeat(24), fileName: 'y-1.mp3' }) ?? ''
  t.equal(link, `${x.gw.url}/t/beta/recordings/${'B'.repeat(24)}/y-1.mp3`)
  t.equal((await fetch(link)).status, 404, 'reaches the gateway')
})
