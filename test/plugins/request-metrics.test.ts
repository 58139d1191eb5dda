import t from 'tap'
import Fastify from 'fastify'
import gateway, { type GatewayDeps } from '../../src/plugins/app/gateway.js'
import requestMetrics, { metricLabel } from '../../src/plugins/app/request-metrics.js'
import { GatewayMetrics } from '../../src/metrics.js'

t.test('labels come from route templates, never from the URL', async (t) => {
  t.equal(metricLabel('/webapi/:key/pbx.calls.get'), 'pbx.calls.get')
  t.equal(metricLabel('/webapi/:key/'), 'info')
  t.equal(metricLabel('/ext.state.get'), 'ext.state.get')
  t.equal(metricLabel(undefined), 'unmatched')
  t.equal(metricLabel('*'), 'unmatched')
})

t.test('each request is counted once, by route label and status, 404s as unmatched', async (t) => {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const app = Fastify()
  await app.register(gateway, { deps: { metrics } as unknown as GatewayDeps })
  await app.register(requestMetrics)
  let hookRan = 0
  app.get('/a.get', { onResponse: (_req, _reply, done) => { hookRan++; done() } }, async () => ({ ok: true }))
  app.get('/webapi/:key/a.get', async () => ({ ok: true }))
  app.get('/b.get', { onResponse: [(_req, _reply, done) => { hookRan++; done() }] }, async (_req, reply) => await reply.code(503).send({ ok: false }))
  t.teardown(async () => { await app.close() })
  for (const url of ['/a.get', '/a.get', '/webapi/SECRET/a.get', '/b.get', '/nope/SECRET', '/nope']) await app.inject({ url })
  const text = await metrics.registry.metrics()
  t.match(text, /gateway_requests_total\{method="a\.get",status="200"\} 3/)
  t.match(text, /gateway_requests_total\{method="b\.get",status="503"\} 1/)
  t.match(text, /gateway_requests_total\{method="unmatched",status="404"\} 2/)
  t.notMatch(text, /SECRET/)
  t.equal(hookRan, 3, "a route's own onResponse hooks still run")
  await app.inject({ url: '/a.get' })
  t.match(await metrics.registry.metrics(), /gateway_requests_total\{method="a\.get",status="200"\} 4/, 'later scrapes add what came since')
})

t.test('without metrics the plugin does nothing', async (t) => {
  const app = Fastify()
  await app.register(gateway, { deps: {} as unknown as GatewayDeps })
  await app.register(requestMetrics)
  app.get('/a.get', async () => ({ ok: true }))
  t.equal((await app.inject({ url: '/a.get' })).statusCode, 200)
  await app.close()
})
