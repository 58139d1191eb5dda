// The webhook admin routes through app.inject: listing, filtering, redelivery, key check, bad input.
import t from 'tap'
import Fastify from 'fastify'
import errorHandler from '../../src/plugins/app/error-handler.js'
import webhookRoutes from '../../routes/webhooks.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import { LegacyError } from '../../src/legacy/legacy-error.js'
import { startReceiver } from './receiver.js'
import { FAST, ringing, target, tempDir, until } from './helpers.js'

t.test('deliveries log and redeliver', async (t) => {
  let status = 404
  const rx = await startReceiver(0, () => ({ status }))
  t.teardown(rx.close)
  const db = openDatabase(tempDir(t))
  const outbox = new SqliteOutbox(db, { targets: [target('crm', rx.url), target('other', rx.url, { events: ['ended'] })] })
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  delivery.start()
  const app = Fastify()
  await app.register(errorHandler)
  await app.register(webhookRoutes, {
    outbox,
    delivery,
    preHandler: async (req) => {
      if (req.headers['x-key'] !== 'control') throw new LegacyError(401, 'UNAUTHORIZED', 'A control key is required')
    }
  })
  t.teardown(async () => { await app.close(); await delivery.stop(500); db.close() })
  outbox.enqueue(ringing(61, 1))
  await until(() => outbox.list({ status: 'failed' }).length === 1)

  const headers = { 'x-key': 'control' }
  const unauth = await app.inject({ url: '/webhooks/deliveries' })
  t.equal(unauth.statusCode, 401)
  t.match(unauth.json(), { result: false, error: { code: 'UNAUTHORIZED' } })

  const list = await app.inject({ url: '/webhooks/deliveries?status=failed&limit=10&target=crm', headers })
  t.equal(list.statusCode, 200)
  const body = list.json()
  t.equal(body.count, 1)
  t.match(body.deliveries[0], { target: 'crm', status: 'failed', event: 'ringing', legacyId: '261121083716_61-0', lastStatus: 404, lastAttempt: { statusCode: 404 } })
  t.match(body.targets, [{ name: 'crm', failures: 1 }, { name: 'other', attempts: 0 }])
  t.equal((await app.inject({ url: '/webhooks/deliveries?status=done', headers })).json().count, 0)

  const bad = await app.inject({ url: '/webhooks/deliveries?status=nope', headers })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { result: false, error: { code: 'BAD_PARAMETER' } })
  t.equal((await app.inject({ url: '/webhooks/deliveries?limit=0', headers })).statusCode, 400)

  status = 200
  const again = await app.inject({ method: 'POST', url: `/webhooks/deliveries/${body.deliveries[0].id}/redeliver`, headers })
  t.equal(again.statusCode, 200)
  t.same(again.json(), { result: true, id: body.deliveries[0].id, status: 'pending' })
  await until(() => outbox.list({ status: 'done' }).length === 1)

  const missing = await app.inject({ method: 'POST', url: '/webhooks/deliveries/424242/redeliver', headers })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { error: { code: 'NOT_FOUND' } })
  const notNumber = await app.inject({ method: 'POST', url: '/webhooks/deliveries/abc/redeliver', headers })
  t.equal(notNumber.statusCode, 400)
})
