import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import gateway, { type GatewayDeps } from '../../src/plugins/app/gateway.js'
import requestMetrics, { metricLabel } from '../../src/plugins/app/request-metrics.js'
import errorHandler, { frameworkErrors } from '../../src/plugins/app/error-handler.js'
import { GatewayMetrics } from '../../src/metrics.js'

t.test('labels come from route templates, never from the URL', async (t) => {
  t.equal(metricLabel('/webapi/:key/pbx.calls.get'), 'pbx.calls.get')
  t.equal(metricLabel('/webapi/:key/'), 'info')
  t.equal(metricLabel('/ext.state.get'), 'ext.state.get')
  t.equal(metricLabel(undefined), 'unmatched')
  t.equal(metricLabel('*'), 'unmatched')
})

/** An app with the counters and the not-found and refused-URL answers of the gateway. */
async function counted (): Promise<{ metrics: GatewayMetrics, app: FastifyInstance }> {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const app = Fastify({ frameworkErrors })
  await app.register(gateway, { deps: { metrics } as unknown as GatewayDeps })
  await app.register(requestMetrics)
  await app.register(errorHandler)
  return { metrics, app }
}

t.test('each request is counted once, by route label and status, 404s as unmatched', async (t) => {
  const { metrics, app } = await counted()
  let hookRan = 0
  app.get('/a.get', { onResponse: (_req, _reply, done) => { hookRan++; done() } }, async () => ({ ok: true }))
  app.get('/webapi/:key/a.get', async () => ({ ok: true }))
  app.get('/b.get', { onResponse: [(_req, _reply, done) => { hookRan++; done() }] }, async (_req, reply) => await reply.code(503).send({ ok: false }))
  t.teardown(async () => { await app.close() })
  for (const url of ['/a.get', '/a.get', '/webapi/SECRET/a.get', '/b.get', '/nope/SECRET', '/nope']) await app.inject({ url })
  const text = await (await metrics.registry()).metrics()
  t.match(text, /gateway_requests_total\{method="a\.get",status="200"\} 3/)
  t.match(text, /gateway_requests_total\{method="b\.get",status="503"\} 1/)
  t.match(text, /gateway_requests_total\{method="unmatched",status="404"\} 2/)
  t.notMatch(text, /method="unmatched",status="(?!404)/, 'only the 404s are unmatched')
  t.notMatch(text, /SECRET/)
  t.equal(hookRan, 3, "a route's own onResponse hooks still run")
  await app.inject({ url: '/a.get' })
  t.match(await (await metrics.registry()).metrics(), /gateway_requests_total\{method="a\.get",status="200"\} 4/, 'later scrapes add what came since')
})

t.test('answers from a route\'s own onRequest hook (401, 429), 405s and URLs the router refuses are counted once', async (t) => {
  const { metrics, app } = await counted()
  let n = 0
  app.get('/webapi/:key/c.get', {
    onRequest: async (_req, reply) => {
      n++
      if (n === 1) await reply.code(401).send({ result: false })
      else if (n === 2) await reply.code(429).send({ result: false })
    }
  }, async () => ({ ok: true }))
  t.teardown(async () => { await app.close() })
  for (const url of ['/webapi/K/c.get', '/webapi/K/c.get', '/webapi/K/c.get', '/webapi/%zz/c.get', '/%E0%A4%A']) {
    await app.inject({ url })
  }
  t.equal((await app.inject({ method: 'POST', url: '/webapi/K/c.get' })).statusCode, 405)
  const text = await (await metrics.registry()).metrics()
  t.match(text, /gateway_requests_total\{method="c\.get",status="401"\} 1/)
  t.match(text, /gateway_requests_total\{method="c\.get",status="429"\} 1/)
  t.match(text, /gateway_requests_total\{method="c\.get",status="200"\} 1/)
  t.match(text, /gateway_requests_total\{method="unmatched",status="400"\} 2/, 'refused URLs (bad percent-encoding), once each')
  t.match(text, /gateway_requests_total\{method="unmatched",status="405"\} 1/)
  t.notMatch(text, /%zz|%E0/i)
})

t.test('without metrics the plugin does nothing', async (t) => {
  const app = Fastify()
  await app.register(gateway, { deps: {} as unknown as GatewayDeps })
  await app.register(requestMetrics)
  app.get('/a.get', async () => ({ ok: true }))
  t.equal((await app.inject({ url: '/a.get' })).statusCode, 200)
  await app.close()
})

t.test('the registry: built at the first ask (one for every ask); PBX requests observed before it are counted in it', async (t) => {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  metrics.observePbx({ api: 'xapi', route: '/Users', status: 200, durationMs: 12 })
  metrics.observePbx({ api: 'token', route: '/connect/token', status: null, durationMs: 3000, error: 'PBX_TIMEOUT' })
  const [one, two] = await Promise.all([metrics.registry(), metrics.registry()])
  t.equal(one, two, 'one registry')
  t.equal(await metrics.registry(), one)
  metrics.observePbx({ api: 'xapi', route: '/Users', status: 200, durationMs: 30 })
  const text = await one.metrics()
  t.match(text, /gateway_pbx_request_duration_seconds_count\{api="xapi",route="\/Users",status="200"\} 2/, 'the early request and the later one')
  t.match(text, /gateway_pbx_request_duration_seconds_bucket\{le="0.025",api="xapi",route="\/Users",status="200"\} 1/)
  t.match(text, /gateway_pbx_request_duration_seconds_count\{api="token",route="\/connect\/token",status="none"\} 1/)
  t.match(text, /gateway_pbx_errors_total\{api="token",route="\/connect\/token",code="PBX_TIMEOUT"\} 1/)
  t.notMatch(text, /gateway_process_cpu/, 'default metrics off as asked')
  const before = process.cpuUsage()
  const text2 = await (await new GatewayMetrics({ tenant: 'acme' }).registry()).metrics()
  const cpu = (name: string): number => Number(new RegExp(`^gateway_process_cpu_${name}seconds_total\\{tenant="acme"\\} (\\S+)$`, 'm').exec(text2)?.[1])
  t.ok(cpu('user_') >= before.user / 1e6, `process CPU since the process started (${cpu('user_')} s user ≥ ${before.user / 1e6} s used before), not since the registry was built`)
  t.ok(cpu('system_') >= before.system / 1e6, 'system CPU too')
  t.ok(cpu('') >= (before.user + before.system) / 1e6, 'and their total')
})

t.test('PBX requests are never dropped for want of a scrape: past 500 early ones the registry is built by itself', async (t) => {
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const observe = (n: number): void => { for (let i = 0; i < n; i++) metrics.observePbx({ api: 'xapi', route: '/Users', status: 200, durationMs: 1 }) }
  observe(600)
  t.notOk(metrics.built, 'not yet: prom-client is loaded asynchronously')
  for (const until = Date.now() + 10_000; !metrics.built && Date.now() < until;) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(metrics.built, 'built without a scrape')
  observe(1400)
  t.match(await (await metrics.registry()).metrics(), /gateway_pbx_request_duration_seconds_count\{api="xapi",route="\/Users",status="200"\} 2000/)
})
