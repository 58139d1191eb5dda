// Webhook ids come from an event's natural key and the PBX it came from: the same call id on two PBXs
// (tenants sharing a receiver; every simulator starts at call 1000) must not give two events one id.
import t from 'tap'
import { messageIdOf } from '../../src/webhooks/message-id.js'

t.test('the id depends on the key and on the PBX', async (t) => {
  const key = '261206210322_1003:started:1:101:0'
  t.equal(messageIdOf(key, 'acme'), messageIdOf(key, 'acme'), 'an event derived again keeps its id')
  t.not(messageIdOf(key, 'acme'), messageIdOf(key, 'beta'), 'the same call id on another PBX is another event')
  t.not(messageIdOf(key, 'https://pbx-a.example.com'), messageIdOf(key, 'https://pbx-b.example.com'))
  t.match(messageIdOf(key, 'acme'), /^msg_[A-Za-z0-9_-]{32}$/)
  t.not(messageIdOf(undefined), messageIdOf(undefined), 'an event without a key gets a random id')
})
