// The "send test event" of a target: signed like a call's event, in the target's format; a
// receiver that is down or answers an error gives a result saying so, never an exception.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { sendTestEvent, testPayload } from '../../src/webhooks/test-event.js'
import { startReceiver } from './receiver.js'
import { SECRET_A, target } from './helpers.js'

t.test('JSON, signed, verifiable with a Standard Webhooks library', async (t) => {
  const rx = await startReceiver(0, () => ({ status: 202, body: 'accepted' }))
  t.teardown(rx.close)
  const r = await sendTestEvent(target('crm', rx.url, { secrets: [SECRET_A] }), 2000)
  t.match(r, { ok: true, statusCode: 202, error: null, excerpt: 'accepted', messageId: /^msg_test_/ })
  const got = rx.all[0]
  const verified = new Webhook(SECRET_A).verify(got.body, got.headers as Record<string, string>)
  t.match(verified, { event: 'test', id: 'test', chid: 'test' })
})

t.test('form and GET targets get it in their format', async (t) => {
  const rx = await startReceiver()
  t.teardown(rx.close)
  await sendTestEvent(target('form', rx.url, { format: 'form' }), 2000)
  await sendTestEvent(target('get', rx.url, { format: 'get' }), 2000)
  t.match(rx.all[0].body, /^event=test&id=test/)
  t.equal(rx.all[1].method, 'GET')
  t.match(rx.all[1].url, /\?event=test&id=test/)
})

t.test('an error answer and a receiver that is down', async (t) => {
  const rx = await startReceiver(0, () => ({ status: 500 }))
  t.teardown(rx.close)
  t.match(await sendTestEvent(target('crm', rx.url), 2000), { ok: false, statusCode: 500, error: 'HTTP 500' })
  const down = await sendTestEvent(target('down', 'http://user:pw@127.0.0.1:1/hook'), 2000)
  t.match(down, { ok: false, statusCode: null, error: /ECONNREFUSED/ })
  t.notMatch(down.error, 'pw', 'no URL credentials in the error')
})

t.test('testPayload', async (t) => {
  t.same(testPayload(new Date(0)), { event: 'test', id: 'test', chid: 'test', timestamp: '1970-01-01T00:00:00.000Z', message: 'Test event sent from the 3cx-gateway console' })
})
