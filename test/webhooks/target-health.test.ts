// A receiver's trouble is the receiver's: a slow 2xx body is still a delivery (never retried), a 410
// or a dead receiver makes /readyz degraded (target named, no secret) but not unready, state changes
// are logged once, and retrying deliveries are listed as such.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import errorHandler from '../../src/plugins/app/error-handler.js'
import webhookRoutes from '../../routes/webhooks.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import { evaluateReadiness } from '../../src/health.js'
import { startReceiver } from './receiver.js'
import { FAST, SECRET_A, ringing, target, tempDir, until } from './helpers.js'

t.test('a 2xx whose body is slow and huge is delivered once, not retried', async (t) => {
  let requests = 0
  const timers = new Set<NodeJS.Timeout>()
  // 200 at once, then 64 KB every 50 ms for 3 s (longer than the 500 ms delivery timeout).
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests++
      res.writeHead(200, { 'content-type': 'text/plain' })
      let n = 0
      const tick = setInterval(() => {
        if (res.destroyed || ++n > 60) { clearInterval(tick); timers.delete(tick); res.end(); return }
        res.write(Buffer.alloc(65_536, 0x61))
      }, 50)
      timers.add(tick)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const x of timers) clearInterval(x)
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const db = openDatabase(tempDir(t))
  const outbox = new SqliteOutbox(db, { targets: [target('slow-body', url)] })
  const delivery = new WebhookDelivery({ outbox, config: { ...FAST, timeoutMs: 500 } })
  delivery.start()
  t.teardown(async () => { await delivery.stop(500); db.close() })
  for (let i = 0; i < 5; i++) outbox.enqueue(ringing(300 + i, 1))
  await until(() => outbox.list({ status: 'done' }).length === 5, 10_000)
  await new Promise((resolve) => setTimeout(resolve, 700))
  t.equal(requests, 5, 'one request per event')
  const done = outbox.list({ status: 'done' })
  t.equal(done.length, 5)
  for (const d of done) {
    t.equal(d.attempts, 1)
    t.ok((d.lastAttempt?.excerpt ?? '').length > 0 && (d.lastAttempt?.excerpt ?? '').length <= 200, 'a short excerpt is kept')
  }
})

t.test('a 410 or a dead receiver: /readyz degraded with the target named, not unready; state changes logged', async (t) => {
  let status = 500
  const rx = await startReceiver(0, () => ({ status }))
  t.teardown(rx.close)
  const db = openDatabase(tempDir(t))
  const secretUrl = rx.url.replace('127.0.0.1', 'user:pa55word@127.0.0.1')
  const outbox = new SqliteOutbox(db, { targets: [target('crm', rx.url, { secrets: [SECRET_A] }), target('legacy', secretUrl)] })
  const lines: Array<[string, string]> = []
  const log = { error: (_o: unknown, m?: string) => lines.push(['error', m ?? '']), warn: (_o: unknown, m?: string) => lines.push(['warn', m ?? '']), info: (_o: unknown, m?: string) => lines.push(['info', m ?? '']) }
  const delivery = new WebhookDelivery({ outbox, config: { ...FAST, retrySchedule: [0, 100, 100, 100] }, log })
  delivery.start()
  const app = Fastify()
  await app.register(errorHandler)
  await app.register(webhookRoutes, { outbox, delivery, preHandler: async () => {} })
  t.teardown(async () => { await app.close(); await delivery.stop(500); db.close() })
  const checks = [{ name: 'webhooks', run: async () => delivery.readiness() }]

  outbox.enqueue(ringing(1, 1))
  await until(() => delivery.stats().every((s) => s.attempts >= 3), 5000)
  let report = await evaluateReadiness(checks)
  t.equal(report.ready, true, 'a failing receiver does not make the gateway unready')
  t.same(report.degraded, ['webhooks'])
  t.match(report.checks.webhooks.detail, /crm failing \(HTTP 500; .*legacy failing/)
  t.notMatch(JSON.stringify(report), /pa55word|whsec_/, 'no secret in /readyz')
  t.equal(lines.filter(([l, m]) => l === 'warn' && /is failing/.test(m)).length, 2, 'one "failing" line per target, not one per attempt')
  const retrying = await app.inject({ url: '/webhooks/deliveries?status=retrying' })
  t.equal(retrying.statusCode, 200)
  t.equal(retrying.json().count, 2, 'retrying deliveries are listed as retrying')
  t.same(retrying.json().deliveries.map((d: { status: string }) => d.status), ['retrying', 'retrying'])
  t.equal((await app.inject({ url: '/webhooks/deliveries?status=pending' })).json().count, 0, 'pending means not tried yet')
  t.same(retrying.json().targets.map((s: { state: string }) => s.state), ['failing', 'failing'])

  status = 200
  await until(() => outbox.list({ status: 'done' }).length === 2, 5000)
  t.equal(lines.filter(([l, m]) => l === 'info' && /recovered after \d+ failed attempts/.test(m)).length, 2, 'recovery logged per target')
  report = await evaluateReadiness(checks)
  t.same(report, { ready: true, degraded: [], checks: { webhooks: { ok: true } } })

  status = 410
  outbox.enqueue(ringing(2, 1))
  await until(() => delivery.stats().every((s) => s.disabled), 5000)
  report = await evaluateReadiness(checks)
  t.equal(report.ready, true, 'a disabled target does not make the gateway unready')
  t.match(report.checks.webhooks, { ok: true, degraded: true, detail: /crm disabled \(410 Gone at .*legacy disabled/ })
  t.notMatch(JSON.stringify(report), /pa55word|whsec_/)
})

t.test('GET /webhooks/deliveries?status=bogus answers 400 naming the allowed statuses', async (t) => {
  const db = openDatabase(tempDir(t))
  const outbox = new SqliteOutbox(db, { targets: [] })
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  const app = Fastify()
  await app.register(errorHandler)
  await app.register(webhookRoutes, { outbox, delivery, preHandler: async () => {} })
  t.teardown(async () => { await app.close(); await delivery.stop(100); db.close() })
  const r = await app.inject({ url: '/webhooks/deliveries?status=bogus' })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { result: false, error: { code: 'BAD_PARAMETER', message: 'Parameter "status" must be one of pending, retrying, done, failed' } })
  const limit = await app.inject({ url: '/webhooks/deliveries?limit=0' })
  t.equal(limit.statusCode, 400, 'other bad parameters still get the generic answer')
  t.match(limit.json(), { error: { code: 'BAD_PARAMETER', message: /limit/ } })
})
