// What the console shows of live calls (pure), and the SSE feed built on the call model's changes.
import t from 'tap'
import type { CallModelView, LiveCall, LiveLeg } from '../../src/calls/live-call.js'
import { consoleCall, consoleCalls, consoleState, liveSnapshot } from '../../src/console/live-view.js'
import { queueWaiting } from '../../src/console/queue-view.js'
import { LiveFeed, sseMessage } from '../../src/console/live-feed.js'

function leg (dn: string, dnType: string, status: LiveLeg['status'], externalParty = ''): LiveLeg {
  return { dn, dnType, participantId: 1, status, externalParty, callerName: dnType === 'externalline' ? 'Alice' : '', firstSeenAt: 0, connectedAt: null }
}

function call (callid: number, legs: LiveLeg[], extra: Partial<LiveCall> = {}): LiveCall {
  return { callid, chid: `c${callid}`, legacyId: `261121083716_${callid}-0`, direction: 'Inbound', did: 'Sales', state: 'Routing', transfer: null, startedAt: 1000 + callid, answeredAt: null, legs, ...extra }
}

t.test('an inbound call through a queue: ringing, then talking', async (t) => {
  const ringing = call(1, [leg('10000', 'externalline', 'Connected', '+15557654321'), leg('800', 'queue', 'Connected'), leg('101', 'extension', 'Ringing'), leg('102', 'extension', 'Ringing')])
  t.match(consoleCall(ringing), { caller: '+15557654321', callerName: 'Alice', callee: '101, 102', state: 'ringing', via: '800', did: 'Sales', legacyId: '261121083716_1-0' })
  const talking = call(1, [leg('10000', 'externalline', 'Connected', '+15557654321'), leg('101', 'extension', 'Connected')], { state: 'Talking', answeredAt: 2000 })
  t.match(consoleCall(talking), { callee: '101', state: 'talking', via: '', answeredAt: 2000 })
  t.same(consoleCall(talking).legs, [{ dn: '10000', dnType: 'externalline', status: 'Connected', since: 0 }, { dn: '101', dnType: 'extension', status: 'Connected', since: 0 }])
})

t.test('states', async (t) => {
  t.equal(consoleState(call(1, [leg('101', 'extension', 'Dialing', '+4930123')])), 'dialing')
  t.equal(consoleState(call(1, [leg('101', 'extension', 'Connected')], { state: 'Transferring', answeredAt: 1 })), 'transferring')
  t.equal(consoleState(call(1, [leg('101', 'extension', 'Connected')], { state: 'Rerouting' })), 'transferring')
  t.equal(consoleState(call(1, [leg('101', 'extension', 'Connected')])), 'dialing', 'connected but not answered: still dialling out')
})

const CUSTOMER = leg('10000', 'externalline', 'Connected', '+15557654321')

t.test('an attended transfer\'s consultation: the caller is on hold, the transferor consults the target', async (t) => {
  const consulting = call(1, [CUSTOMER, leg('102', 'extension', 'Connected'), leg('102', 'extension', 'Dialing', '103'), leg('103', 'extension', 'Ringing', '102')],
    { state: 'Transferring', answeredAt: 2000, transfer: { kind: 'consultation', by: '102', target: '103' } })
  t.match(consoleCall(consulting), { state: 'held', stateText: 'on hold (102 consults 103)', callee: '102', caller: '+15557654321' })
  const done = call(1, [CUSTOMER, leg('103', 'extension', 'Connected')], { state: 'Talking', answeredAt: 2000 })
  t.match(consoleCall(done), { state: 'talking', stateText: 'talking', callee: '103' }, 'the transfer done: 103 talks to the caller')
})

t.test('a blind transfer in progress: transferring, with who to whom', async (t) => {
  const blind = call(1, [CUSTOMER, leg('103', 'extension', 'Ringing')], { state: 'Transferring', answeredAt: 2000, transfer: { kind: 'blind', by: '102', target: '103' } })
  t.match(consoleCall(blind), { state: 'transferring', stateText: 'transferring (102 → 103)', callee: '103' })
  t.match(consoleCall(call(1, [CUSTOMER], { state: 'Rerouting', answeredAt: 2000 })), { state: 'transferring', stateText: 'transferring' }, 'between legs after an answer')
  const { transfer: _absent, ...older } = call(1, [CUSTOMER, leg('101', 'extension', 'Connected')], { state: 'Talking', answeredAt: 2000 })
  t.match(consoleCall(older as LiveCall), { state: 'talking', stateText: 'talking' }, 'a call published by an older holder (no transfer field)')
})

t.test('queues: calls waiting and the longest wait, answered and held calls not counted', async (t) => {
  const inQueue = (callid: number, queue: string, since: number, extra: Partial<LiveCall> = {}): LiveCall =>
    call(callid, [CUSTOMER, { ...leg(queue, 'queue', 'Connected'), firstSeenAt: since }, leg('101', 'extension', 'Ringing')], extra)
  const calls = consoleCalls([
    inQueue(1, '800', 5000),
    inQueue(2, '800', 3000),
    inQueue(3, '801', 4000),
    // a queue leg that lingers after the answer, and one during a consultation: not waiting
    call(4, [CUSTOMER, { ...leg('802', 'queue', 'Connected'), firstSeenAt: 1 }, leg('101', 'extension', 'Connected')], { state: 'Talking', answeredAt: 2 }),
    inQueue(5, '802', 1, { state: 'Transferring', answeredAt: 2, transfer: { kind: 'consultation', by: '101', target: '103' } }),
    // transferred into a queue after an answer: waiting again
    inQueue(6, '1000', 7000, { state: 'Rerouting', answeredAt: 2 })
  ])
  t.same(queueWaiting(calls), [
    { number: '800', waiting: 2, longestSince: 3000 },
    { number: '801', waiting: 1, longestSince: 4000 },
    { number: '1000', waiting: 1, longestSince: 7000 }
  ])
  t.same(liveSnapshot([inQueue(1, '800', 5000)], 9000).queues, [{ number: '800', waiting: 1, longestSince: 5000 }])
  t.same(queueWaiting([]), [])
})

t.test('an outbound call still dialling: the callee is the number dialled', async (t) => {
  t.match(consoleCall(call(2, [leg('101', 'extension', 'Dialing', '+4930123')])), { caller: '101', callee: '+4930123', state: 'dialing' })
  t.match(consoleCall(call(3, [])), { caller: '', callee: '', callerName: '' }, 'a call without legs does not throw')
})

t.test('sorted oldest first', async (t) => {
  t.same(consoleCalls([call(5, []), call(2, []), call(3, [], { startedAt: 1002 })]).map((c) => c.callid), [2, 3, 5])
})

t.test('sseMessage', async (t) => {
  t.equal(sseMessage('calls', { a: 'x\ny' }), 'event: calls\ndata: {"a":"x\\ny"}\n\n', 'one data line even with newlines in the data')
})

t.test('LiveFeed: the list at once, changes coalesced, heartbeat, stop', async (t) => {
  let calls: LiveCall[] = []
  const listeners = new Set<() => void>()
  const model: CallModelView = {
    list: () => calls,
    size: () => calls.length,
    isBusy: () => false,
    isTalking: () => false,
    reserve: () => ({ chid: '', legacyId: '' }),
    onChange: (l) => { listeners.add(l); return () => { listeners.delete(l) } }
  }
  const sent: string[] = []
  const feed = new LiveFeed(model, (s) => { sent.push(s) }, { coalesceMs: 20, heartbeatMs: 30, now: () => 42 })
  feed.start()
  t.same(sent, ['event: calls\ndata: {"now":42,"calls":[],"queues":[]}\n\n'])
  calls = [call(1, [leg('101', 'extension', 'Dialing', '+4930123')])]
  for (const l of listeners) { l(); l(); l() }
  await new Promise((resolve) => setTimeout(resolve, 45))
  const messages = sent.filter((s) => s.startsWith('event:'))
  t.equal(messages.length, 2, 'three changes, one message')
  t.match(messages[1], /"callid":1/)
  t.ok(sent.includes(': keep-alive\n\n'), 'heartbeat')
  feed.stop()
  t.equal(listeners.size, 0, 'unsubscribed')
  const count = sent.length
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(sent.length, count, 'nothing after stop')
})

t.test('LiveFeed on a model without changes: the list once', async (t) => {
  const sent: string[] = []
  const feed = new LiveFeed({ list: () => [], size: () => 0, isBusy: () => false, isTalking: () => false, reserve: () => ({ chid: '', legacyId: '' }) }, (s) => { sent.push(s) })
  feed.start()
  feed.stop()
  t.equal(sent.length, 1)
})
