// Delivery against real local HTTP receivers: signatures, retries and order, isolation between
// targets, 410, Retry-After, formats, failures and redelivery.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { WebhookDelivery, classifyStatus, parseRetryAfter, retryDelay } from '../../src/webhooks/delivery.js'
import { eventOf } from '../../src/calls/call-events.js'
import type { WebhookTargetConfig } from '../../src/config.js'
import { startReceiver } from './receiver.js'
import { FAST, SECRET_A, SECRET_B, ringing, target, tempDir, until } from './helpers.js'

async function setup (t: { teardown: (fn: () => unknown) => void }, targets: WebhookTargetConfig[], config = FAST): Promise<{ outbox: SqliteOutbox, delivery: WebhookDelivery, dir: string }> {
  const dir = tempDir(t)
  const db = openDatabase(dir)
  const outbox = new SqliteOutbox(db, { targets })
  const delivery = new WebhookDelivery({ outbox, config, random: () => 0.5 })
  delivery.start()
  t.teardown(async () => { await delivery.stop(1000); db.close() })
  return { outbox, delivery, dir }
}

t.test('pure helpers', async (t) => {
  t.equal(classifyStatus(204), 'done')
  t.equal(classifyStatus(410), 'gone')
  t.equal(classifyStatus(429), 'retry')
  t.equal(classifyStatus(408), 'retry')
  t.equal(classifyStatus(503), 'retry')
  t.equal(classifyStatus(404), 'failed')
  t.equal(parseRetryAfter('3', 0), 3000)
  t.equal(parseRetryAfter(new Date(10_000).toUTCString(), 5_000), 5000)
  t.equal(parseRetryAfter('soon', 0), null)
  t.equal(parseRetryAfter(undefined, 0), null)
  t.equal(retryDelay([0, 5000, 30_000], 1, 0.5), 0)
  t.equal(retryDelay([0, 5000, 30_000], 2, 0.5), 5000)
  t.equal(retryDelay([0, 5000, 30_000], 9, 0.5), 30_000, 'repeats the last delay')
  t.equal(retryDelay([0, 5000], 2, 0), 4000, 'jitter -20%')
  t.equal(retryDelay([0, 5000], 2, 1), 6000, 'jitter +20%')
})

t.test('signed JSON: verifies with standardwebhooks, same webhook-id on retry, two secrets during rotation', async (t) => {
  let calls = 0
  const rx = await startReceiver(0, () => (++calls === 1 ? { status: 503 } : undefined))
  t.teardown(rx.close)
  const { outbox } = await setup(t, [target('crm', rx.url, { secrets: [SECRET_A, SECRET_B] })])
  const e = ringing(1, 1)
  outbox.enqueue(e)
  await rx.waitFor(1)
  t.equal(rx.all.length, 2, 'one 503, then success')
  t.equal(rx.all[0].headers['webhook-id'], rx.all[1].headers['webhook-id'], 'webhook-id constant across retries')
  const got = rx.received[0]
  t.equal(got.headers['content-type'], 'application/json')
  t.same(JSON.parse(got.body), e.payload)
  const headers = { 'webhook-id': String(got.headers['webhook-id']), 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) }
  t.same(new Webhook(SECRET_A).verify(got.body, headers), e.payload, 'current secret verifies')
  t.same(new Webhook(SECRET_B).verify(got.body, headers), e.payload, 'previous secret verifies')
  t.throws(() => new Webhook('whsec_' + Buffer.alloc(32, 9).toString('base64')).verify(got.body, headers), 'a wrong secret does not')
  t.throws(() => new Webhook(SECRET_A).verify(got.body.replace('Sales', 'Xales'), headers), 'a changed body does not')
})

t.test('receiver down for a while: everything arrives, per-call order kept', async (t) => {
  const probe = await startReceiver()
  const port = probe.port
  await probe.close() // nobody listens on this port now: connection refused
  const { outbox, delivery } = await setup(t, [target('crm', probe.url)])
  for (let seq = 1; seq <= 5; seq++) for (const callid of [11, 12, 13]) outbox.enqueue(ringing(callid, seq))
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.ok(delivery.stats()[0].failures > 0, 'attempts failed while down')
  t.equal(outbox.depth().crm.pending, 15)
  const rx = await startReceiver(port)
  t.teardown(rx.close)
  await rx.waitFor(15)
  for (const callid of [11, 12, 13]) {
    const seqs = rx.received.map((r) => JSON.parse(r.body) as { chid: string, callerid: string })
      .filter((p) => p.chid.endsWith(`_${callid}`)).map((p) => p.callerid)
    t.same(seqs, ['1', '2', '3', '4', '5'], `call ${callid} in order`)
  }
  await until(() => outbox.depth().crm.pending === 0)
  const done = outbox.list({ status: 'done', limit: 100 })
  t.equal(done.length, 15)
  t.ok(done.some((d) => d.attempts > 1), 'retried deliveries record their attempts')
  const failedAttempt = outbox.attempts(done.find((d) => d.attempts > 1)?.id ?? 0)[0]
  t.equal(failedAttempt.statusCode, null)
  t.match(failedAttempt.error, /ECONNREFUSED/)
})

t.test('a later event of a call waits while an earlier one is retried', async (t) => {
  const seen: string[] = []
  let failFirst = 3
  const rx = await startReceiver(0, (r) => {
    const p = JSON.parse(r.body) as { callerid: string }
    seen.push(p.callerid)
    return p.callerid === '1' && failFirst-- > 0 ? { status: 500 } : undefined
  })
  t.teardown(rx.close)
  const { outbox } = await setup(t, [target('crm', rx.url)])
  outbox.enqueue(ringing(21, 1))
  outbox.enqueue(ringing(21, 2))
  await rx.waitFor(2)
  t.same(seen, ['1', '1', '1', '1', '2'])
})

t.test('a slow receiver does not delay another target', async (t) => {
  const slow = await startReceiver(0, () => ({ delayMs: 1500 }))
  const fast = await startReceiver()
  t.teardown(slow.close)
  t.teardown(fast.close)
  const { outbox } = await setup(t, [target('slow', slow.url), target('fast', fast.url)])
  const started = Date.now()
  for (let i = 0; i < 20; i++) outbox.enqueue(ringing(100 + i, 1))
  await fast.waitFor(20)
  t.ok(Date.now() - started < 1000, `fast target got all 20 in ${Date.now() - started} ms`)
  t.equal(slow.received.length, 0)
})

t.test('410 disables the target, persisted; Retry-After is honoured', async (t) => {
  const gone = await startReceiver(0, () => ({ status: 410 }))
  let first = true
  const limited = await startReceiver(0, () => {
    if (!first) return undefined
    first = false
    return { status: 429, headers: { 'retry-after': '1' } }
  })
  t.teardown(gone.close)
  t.teardown(limited.close)
  const { outbox, delivery, dir } = await setup(t, [target('gone', gone.url), target('limited', limited.url)])
  outbox.enqueue(ringing(31, 1))
  await limited.waitFor(1)
  const gap = limited.all[1].at - limited.all[0].at
  t.ok(gap >= 950, `second attempt waited for Retry-After (${gap} ms)`)
  t.equal(gone.all.length, 1, 'one attempt, then no retry')
  t.ok(outbox.disabledTargets().has('gone'))
  t.match(delivery.stats().find((s) => s.name === 'gone'), { disabled: true, disabledReason: /410/ })
  outbox.enqueue(ringing(31, 2))
  await limited.waitFor(2)
  t.equal(gone.all.length, 1, 'nothing more sent to a disabled target')
  const again = new SqliteOutbox(openDatabase(dir), { targets: [target('gone', gone.url)] })
  t.ok(again.disabledTargets().has('gone'), 'still disabled after a restart')
  again.enableTarget('gone')
  t.notOk(again.disabledTargets().has('gone'))
  again.db.close()
})

t.test('other 4xx: failed without retry, listed, redelivered on request', async (t) => {
  let reject = true
  const rx = await startReceiver(0, () => (reject ? { status: 422, body: 'bad field "user"' } : undefined))
  t.teardown(rx.close)
  const { outbox } = await setup(t, [target('crm', rx.url)])
  outbox.enqueue(ringing(41, 1))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(rx.all.length, 1)
  const [failed] = outbox.list({ status: 'failed' })
  t.match(failed, { target: 'crm', status: 'failed', attempts: 1, lastStatus: 422, event: 'ringing', legacyId: '261121083716_41-0' })
  t.equal(failed.lastAttempt?.excerpt, 'bad field "user"')
  reject = false
  t.ok(outbox.redeliver(failed.id))
  await rx.waitFor(1)
  await until(() => outbox.list({ status: 'done' }).length === 1)
  t.equal(outbox.list({ status: 'failed' }).length, 0)
  t.equal(outbox.redeliver(999_999), null)
})

t.test('formats: form and legacy GET with FILES repeated, pickup names, filters', async (t) => {
  const rx = await startReceiver()
  t.teardown(rx.close)
  const { outbox } = await setup(t, [
    target('form', rx.url, { format: 'form', eventNames: 'pickup' }),
    target('get', rx.url + '?key=1', { format: 'get', events: ['recording'], secrets: [SECRET_A] }),
    target('only102', rx.url, { extensions: ['102'] })
  ])
  const chid = '261121083716_51'
  outbox.enqueue(eventOf({ event: 'hangupincoming', callerid: '+15557654321', user: '101', did: 'Sales line', trtype: 'NotDef', id: `${chid}-1`, chid, timestamp: new Date().toISOString() }))
  outbox.enqueue(eventOf({ event: 'recording', id: `${chid}-1`, chid, timestamp: new Date().toISOString(), FILES: ['https://gw/a-1.mp3', 'https://gw/a-2.mp3'] }))
  await rx.waitFor(3)
  const form = rx.received.find((r) => r.headers['content-type'] === 'application/x-www-form-urlencoded' && r.body.includes('pickupincoming'))
  t.ok(form, 'form target renamed hangupincoming')
  t.equal(new URLSearchParams(form?.body).get('user'), '101')
  const get = rx.received.find((r) => r.method === 'GET')
  const q = new URL(get?.url ?? '/', 'http://x').searchParams
  t.equal(q.get('key'), '1', 'keeps the URL\'s own query')
  t.same(q.getAll('FILES'), ['https://gw/a-1.mp3', 'https://gw/a-2.mp3'])
  t.equal(q.get('event'), 'recording')
  t.ok(get?.headers['webhook-signature'])
  t.equal(rx.received.filter((r) => r.headers['content-type'] === 'application/json').length, 0, 'extension filter: nothing for 102')
})
