// Every schema of the gateway's routes and of its demo simulator compiles: routes compile their
// validators and serializers at first use (src/schema-compilers.ts), so a schema Ajv or
// fast-json-stringify cannot compile would otherwise show only when its route is first called. Here
// they are compiled when the apps get ready, as Fastify would, with every optional part switched on.
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { compileSchemasAtStart } from '../../src/schema-compilers.js'

const quiet = { write: () => true } as unknown as NodeJS.WritableStream

t.test('the demo gateway with webhooks, recordings and the console: every route\'s schemas compile at start', async (t) => {
  compileSchemasAtStart(true)
  t.teardown(() => { compileSchemasAtStart(false) })
  const gw = await startGateway(loadConfig({
    PORT: '0', HOST: '127.0.0.1', DATA_DIR: t.testdir({}), DEMO_TRAFFIC: '0', RECORDINGS_SOURCE: 'xapi', WEBHOOK_URLS: 'http://127.0.0.1:9/hook'
  }), { logStream: quiet })
  t.teardown(gw.close)
  const r = await fetch(`${gw.url}/ext.state.get?num=101`, { headers: { 'X-API-Key': 'demo' } })
  t.equal(r.status, 200, 'and it answers')
})
