// The change feed alone: a fake reader whose answers the test holds and releases, a fake link, and
// fake time. No sockets, no sleeps: every ordering below is exact.
import t from 'tap'
import { parseEventMessage } from '../../src/pbx/callcontrol-feed.js'
import { PbxError } from '../../src/pbx/pbx-api.js'
import { settle } from '../fake-clock.js'
import { gate, participant } from './fake-callcontrol.js'
import { kinds, msg, started } from './feed-harness.js'

t.test('event messages: upserts and removes of participants; everything else ignored', async (t) => {
  t.same(parseEventMessage(msg(0, '101', 7)), { kind: 'upsert', dn: '101', id: 7 })
  t.same(parseEventMessage(msg('1', '101', 7)), { kind: 'remove', dn: '101', id: 7 })
  t.same(parseEventMessage(msg(0, 'sip%3A1', 7)), { kind: 'upsert', dn: 'sip:1', id: 7 }, 'the DN is decoded')
  t.equal(parseEventMessage(msg(2, '101', 7)), null, 'DTMF ignored')
  t.equal(parseEventMessage(msg(5, '101', 7)), null)
  t.equal(parseEventMessage(msg(0, '101', 'x')), null)
  t.equal(parseEventMessage(JSON.stringify({ event: { event_type: 0, entity: '/callcontrol/101/devices/sip%3A101' } })), null, 'device entities ignored')
  t.equal(parseEventMessage(JSON.stringify({ event: { event_type: 0, entity: 42 } })), null)
  t.equal(parseEventMessage(msg(0, '%E0%A4%A', 1)), null)
  t.equal(parseEventMessage('not json'), null)
  t.equal(parseEventMessage('null'), null)
  t.equal(parseEventMessage('{"event":null}'), null)
})

t.test('first snapshot, then upserts read, duplicates dropped, removes without a read', async (t) => {
  const h = await started(t, false)
  h.reader.dns[1].participants.push(participant('800', 1, { status: 'Connected' }))
  t.equal(h.feed.blindSince(), h.clock.now(), 'blind from the start')
  h.feed.opened()
  await h.feed.ready()
  t.same(kinds(h.changes), ['resync:800#1'])
  t.equal(h.feed.blindSince(), null)
  t.equal(h.synced, 1)

  h.reader.dns[0].participants.push(participant('101', 2))
  await h.clock.advance(5)
  h.feed.message(msg(0, '101', 2))
  h.feed.message(msg(0, '101', 2)) // the PBX often repeats an upsert: the read not begun yet reads it too
  h.feed.message(msg(3, '101', 2)) // unknown type
  await settle()
  t.equal(h.reader.readsOf('101/2'), 1)
  h.reader.dns[0].participants[0].status = 'Connected'
  await h.send(0, '101', 2)
  await h.send(0, '800', 1) // unchanged since the snapshot: dropped
  h.reader.dns[0].participants.length = 0
  await h.send(1, '101', 2)
  await h.send(0, '101', 2) // a late upsert of a removed participant: nothing
  await h.send(1, '101', 2)
  t.same(kinds(h.changes), ['resync:800#1', '+101#2 Ringing', '+101#2 Connected', '-101#2'])
  t.match(h.changes[1], { kind: 'upsert', dnType: 'Wextension', at: h.clock.now() }, 'DN type from the snapshot, stamped with the clock')
  t.same(h.changes[3], { kind: 'remove', dn: '101', id: 2, at: h.clock.now() }, 'every change was read: a certain remove')
  t.same(h.reader.reads, ['snapshot', '101/2', '101/2', '800/1'], 'no read for a remove')
  t.equal(h.feed.oldestPendingUpsert(), null)
})

t.test('an upsert whose participant is gone by the read emits an uncertain remove, once', async (t) => {
  const h = await started(t)
  h.reader.dns.push({ dn: '900', type: 'Wivr', devices: [], participants: [] })
  h.reader.participantAnswer.set('555/1', participant('900', 1)) // a participant of another DN than the event's: that DN's type
  await h.send(0, '555', 1)
  await h.send(0, '101', 9)
  await h.send(1, '101', 9)
  await h.send(0, '101', 9)
  t.same(kinds(h.changes), ['resync:', '+900#1 Ringing', '-101#9'])
  t.match(h.changes[1], { dnType: 'None' }, 'a DN missing from the snapshot has no type')
  t.match(h.changes[2], { kind: 'remove', uncertain: true }, 'what changed before it went was never read')
})

t.test('events for one participant are handled one after another; repeats queued behind a read are read once', async (t) => {
  const h = await started(t)
  const p = participant('101', 3)
  h.reader.dns[0].participants.push(p)
  const slow = gate()
  h.reader.participantGate.set('101/3', slow.promise)
  await h.send(0, '101', 3)
  p.status = 'Connected'
  for (let i = 0; i < 5; i++) await h.send(0, '101', 3)
  t.equal(h.reader.readsOf('101/3'), 1, 'the second read waits for the first')
  t.equal(h.feed.oldestPendingUpsert(), h.clock.now())
  h.reader.participantGate.delete('101/3')
  slow.open()
  await settle()
  t.same(kinds(h.changes), ['resync:', '+101#3 Connected'], 'the newest state wins; the repeat is dropped')
  t.equal(h.reader.readsOf('101/3'), 2, 'the one in flight and one for the five repeats')
})

t.test('reads that fall behind are replaced by one snapshot; a call end waits for it', async (t) => {
  const h = await started(t)
  const stuck = gate()
  h.reader.participantGate.set('101/6', stuck.promise)
  h.reader.dns[0].participants.push(participant('101', 6, { status: 'Connected' }))
  await h.send(0, '101', 6)
  const announced = h.clock.now()
  await h.send(0, '101', 6) // queued behind the stuck read
  await h.clock.advance(100)
  await h.send(0, '101', 5) // 100 ms behind: not yet
  t.equal(h.feed.catchUps, 0)
  await h.clock.advance(100)
  const held = gate()
  h.reader.snapshotGate = held.promise
  h.reader.dns[0].participants.push(participant('101', 7))
  await h.send(0, '101', 7) // 200 ms behind: a snapshot instead
  t.equal(h.feed.catchUps, 1)
  t.match(h.logs, ['warn Call Control: participant fetches fell behind; taking a snapshot instead'])
  t.equal(h.feed.oldestPendingUpsert(), announced, 'a call end waits while the snapshot is read')
  await h.send(0, '101', 8) // held until the snapshot is applied
  t.equal(h.reader.readsOf('101/8'), 0)
  h.reader.snapshotGate = null
  held.open()
  await settle()
  t.equal(h.feed.oldestPendingUpsert(), null, 'the stuck read no longer holds call ends: the snapshot covers it')
  // 101#5 was gone by its read (404), but its turn came after the stuck read's: the snapshot covers it too.
  t.same(kinds(h.changes), ['resync:', 'resync:101#6,101#7', '-101#8'], 'the stale read and the queued one are covered by the snapshot')
  t.equal(h.reader.readsOf('101/6'), 1, 'the change queued before the snapshot was not read')
  h.reader.participantGate.delete('101/6')
  stuck.open()
  h.reader.dns[0].participants.length = 0
  await h.send(1, '101', 6)
  t.same(h.changes.at(-1), { kind: 'remove', dn: '101', id: 6, at: h.clock.now() }, 'read by the snapshot: a certain remove')
})

t.test('a read that outlives its abort is still covered by the snapshot', async (t) => {
  const h = await started(t)
  const stuck = gate()
  h.reader.participantGate.set('101/6', stuck.promise)
  h.reader.deaf.add('101/6')
  h.reader.dns[0].participants.push(participant('101', 6))
  await h.send(0, '101', 6)
  await h.clock.advance(200)
  await h.send(0, '101', 7) // behind: a snapshot
  t.equal(h.feed.catchUps, 1)
  t.equal(h.feed.oldestPendingUpsert(), null, 'the hanging read no longer holds call ends')
  h.reader.dns[0].participants[0].status = 'Connected'
  stuck.open()
  await settle()
  t.same(kinds(h.changes), ['resync:', 'resync:101#6', '-101#7'], 'its late answer is no change: the snapshot is newer')
})

t.test('a remove queued behind changes left to a pending snapshot is uncertain', async (t) => {
  const h = await started(t)
  const stuck = gate()
  h.reader.participantGate.set('101/8', stuck.promise)
  h.reader.dns[0].participants.push(participant('101', 8))
  await h.send(0, '101', 8)
  h.reader.dns[0].participants[0].status = 'Connected' // answered: a change the gateway will not read
  await h.send(0, '101', 8)
  h.reader.dns[0].participants.length = 0
  await h.send(1, '101', 8)
  await h.clock.advance(200)
  const held = gate()
  h.reader.snapshotGate = held.promise
  await h.send(0, '101', 99) // the next change finds the reads behind: a snapshot, held
  t.same(kinds(h.changes), ['resync:', '-101#8'])
  t.match(h.changes[1], { kind: 'remove', dn: '101', id: 8, uncertain: true })
  held.open()
  await settle()
  t.equal(h.changes.filter((c) => c.kind === 'resync').length, 2)
})

t.test('events that arrive during the snapshot are applied after it', async (t) => {
  const h = await started(t, false)
  const held = gate()
  h.reader.snapshotGate = held.promise
  h.feed.opened()
  await settle()
  h.reader.dns[0].participants.push(participant('101', 4, { status: 'Dialing' }))
  await h.send(0, '101', 4)
  t.same(h.changes, [], 'nothing before the snapshot')
  t.same(h.reader.reads, ['snapshot'], 'not read while the snapshot is pending')
  held.open()
  await h.feed.ready()
  await settle()
  t.same(kinds(h.changes), ['resync:', '+101#4 Dialing'])
})

t.test('a failed read (not a 404) takes a snapshot shortly after; not while the link is down', async (t) => {
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 1))
  h.reader.participantError.set('101/1', new PbxError('PBX_ERROR', 'the PBX answered 500', 502, 500))
  await h.send(0, '101', 1)
  t.match(h.logs, ['warn Call Control: fetching a participant failed; taking a new snapshot'])
  t.equal(h.clock.pending, 1, 'a snapshot is scheduled')
  await h.send(0, '101', 2) // the scheduled snapshot is coming: no catch-up on top of it
  await h.clock.advance(19)
  t.equal(h.reader.readsOf('snapshot'), 1)
  await h.clock.advance(1)
  t.equal(h.reader.readsOf('snapshot'), 2)
  t.same(kinds(h.changes), ['resync:', '-101#2', 'resync:101#1'])

  h.link.connected = false
  h.reader.participantError.set('101/3', new Error('socket hang up'))
  await h.send(0, '101', 3)
  t.equal(h.clock.pending, 0, 'the reconnect brings the snapshot')
})

t.test('a failed snapshot drops the link; the feed is blind until the next one is applied', async (t) => {
  const h = await started(t, false)
  h.reader.snapshotError = new PbxError('PBX_UNREACHABLE', 'refused', 503)
  const start = h.clock.now()
  await h.clock.advance(10)
  h.feed.opened()
  await settle()
  t.equal(h.link.drops, 1)
  t.match(h.logs, ['warn Call Control snapshot failed; reconnecting'])
  t.equal(h.feed.blindSince(), start)
  h.feed.closed()
  h.reader.snapshotError = null
  h.feed.opened()
  await h.feed.ready()
  t.equal(h.feed.blindSince(), null)
  t.equal(h.link.drops, 1)
})

t.test('a closed link: blind since the oldest unread change; a snapshot of the old link is dropped', async (t) => {
  const h = await started(t)
  h.reader.participantGate.set('101/1', new Promise(() => {}))
  await h.send(0, '101', 1)
  const announced = h.clock.now()
  await h.clock.advance(50)
  const held = gate()
  h.reader.snapshotGate = held.promise
  h.reader.snapshotError = new Error('late')
  h.feed.opened() // a snapshot for this link, held
  await settle()
  h.feed.closed()
  t.equal(h.feed.blindSince(), announced, 'blind since the change still being read')
  held.open()
  await settle()
  t.equal(h.link.drops, 0, 'a failed snapshot of a closed link drops nothing')
  h.reader.snapshotError = null
  const again = gate()
  h.reader.snapshotGate = again.promise
  h.feed.opened()
  await settle()
  h.feed.closed() // closed while its snapshot is read: that snapshot is not applied
  again.open()
  await settle()
  t.equal(h.changes.filter((c) => c.kind === 'resync').length, 1)
  t.equal(h.feed.blindSince(), announced)
})

t.test('an event that cannot be handled is logged and the next one for the participant still runs', async (t) => {
  const h = await started(t)
  // A participant that cannot be serialised (a PBX sending a shape no JSON can hold) fails past the read.
  h.reader.participantAnswer.set('101/1', { ...participant('101', 1), callid: 1n })
  await h.send(0, '101', 1)
  t.match(h.logs, ['error Call Control event handling failed'])
  h.reader.participantAnswer.delete('101/1')
  h.reader.dns[0].participants.push(participant('101', 1))
  await h.send(0, '101', 1)
  t.same(kinds(h.changes), ['resync:', '+101#1 Ringing'])
  h.reader.participantAnswer.set('101/2', null)
  await h.send(0, '101', 2)
  t.equal(h.changes.length, 2, 'an empty answer is no change')
})

t.test('a listener that throws is logged; the others still hear every change', async (t) => {
  const h = await started(t)
  const off = h.feed.onChange(() => { throw new Error('boom') })
  h.reader.dns[0].participants.push(participant('101', 1))
  await h.send(0, '101', 1)
  t.match(h.logs, ['error a Call Control change listener threw'])
  off()
  await h.send(1, '101', 1)
  t.same(kinds(h.changes), ['resync:', '+101#1 Ringing', '-101#1'])
  t.equal(h.logs.filter((l) => l.startsWith('error')).length, 1, 'unsubscribed')
})

t.test('removed participants are remembered up to a limit', async (t) => {
  const h = await started(t)
  for (let id = 0; id <= 10_000; id++) h.feed.message(msg(1, '101', id))
  await settle()
  t.equal(h.changes.length, 10_002)
  await h.send(1, '101', 0) // forgotten: removed again
  await h.send(1, '101', 10_000) // remembered: nothing
  t.equal(h.changes.length, 10_003)
})

t.test('stop() aborts the reads, rejects a pending ready() and ignores later messages; start() again', async (t) => {
  const h = await started(t, false)
  h.reader.snapshotGate = new Promise(() => {})
  h.feed.opened()
  await settle()
  const ready = h.feed.ready()
  await h.feed.stop()
  await t.rejects(ready, /stopped before its first snapshot/)
  h.feed.opened()
  await h.send(0, '101', 1)
  h.feed.closed()
  t.same(h.reader.reads, ['snapshot'])
  t.equal(h.feed.blindSince(), h.clock.now() - 0, 'still blind from before')

  h.feed.start()
  h.feed.start() // twice is once
  h.reader.snapshotGate = null
  h.reader.dns[0].participants.push(participant('101', 2))
  const stuck = gate()
  h.reader.participantGate.set('101/2', stuck.promise)
  h.feed.opened()
  await h.feed.ready()
  await h.send(0, '101', 2)
  await h.feed.stop() // the read in flight is aborted, and its answer is no change
  t.same(kinds(h.changes), ['resync:101#2'])
  t.same(h.logs.filter((l) => l.startsWith('warn')), [], 'an abort by stop() is not a failure')
})

t.test('a reconnect forgets removed ids: a restarted PBX numbers its participants again', async (t) => {
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 1, { callid: 7 }))
  await h.send(0, '101', 1)
  h.reader.dns[0].participants.length = 0
  await h.send(1, '101', 1)
  h.reader.dns[0].participants.push(participant('101', 2, { callid: 7 }))
  await h.send(0, '101', 2)
  h.reader.dns[0].participants.length = 0
  await h.send(1, '101', 2)
  // The PBX restarts: the link drops; its new calls reuse participant ids 1 and 2.
  h.feed.closed()
  h.reader.dns[0].participants.push(participant('101', 1, { callid: 1 }))
  h.feed.opened()
  await settle()
  h.reader.dns[0].participants[0].status = 'Connected'
  await h.send(0, '101', 1) // in the snapshot: alive
  h.reader.dns[0].participants.push(participant('101', 2, { callid: 2 }))
  await h.send(0, '101', 2) // a new participant after the snapshot
  await h.send(1, '101', 9) // a remove of an id never seen: still passed on
  t.same(kinds(h.changes), ['resync:', '+101#1 Ringing', '-101#1', '+101#2 Ringing', '-101#2', 'resync:101#1', '+101#1 Connected', '+101#2 Ringing', '-101#9'])
  t.match(h.changes[7], { kind: 'upsert', participant: { callid: 2 } })
  await h.send(1, '101', 2)
  await h.send(0, '101', 2) // removed on this link: its late upsert is nothing again
  t.equal(kinds(h.changes).at(-1), '-101#2')
  t.equal(h.changes.length, 10)
})

t.test('a catch-up snapshot keeps the removed ids, but a participant in it is alive', async (t) => {
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 1))
  await h.send(0, '101', 1)
  h.reader.dns[0].participants.length = 0
  await h.send(1, '101', 1)
  h.reader.participantGate.set('101/3', new Promise(() => {}))
  await h.send(0, '101', 3)
  await h.clock.advance(200)
  await h.send(0, '101', 4) // behind: a snapshot on the same link
  t.equal(h.feed.catchUps, 1)
  await settle()
  await h.send(0, '101', 1) // removed on this link, not in the snapshot: nothing
  t.same(kinds(h.changes), ['resync:', '+101#1 Ringing', '-101#1', 'resync:', '-101#4'])
})

t.test('a failed read stays pending until the snapshot that replaces it: the next change of that participant waits', async (t) => {
  const h = await started(t)
  const p = participant('101', 1, { status: 'Connected' })
  h.reader.dns[0].participants.push(p)
  h.reader.participantError.set('101/1', new PbxError('PBX_ERROR', 'the PBX answered 500', 502, 500))
  await h.send(0, '101', 1)
  const announced = h.clock.now()
  h.reader.participantError.delete('101/1')
  await h.clock.advance(5)
  await h.send(1, '101', 1) // its remove must not overtake the answer the read missed
  t.same(kinds(h.changes), ['resync:'], 'nothing of 101/1 yet')
  t.equal(h.feed.oldestPendingUpsert(), announced, 'a call end keeps waiting for the failed read')
  await h.clock.advance(15) // the replacement snapshot (resyncDelayMs 20), with 101/1 still in it
  await settle()
  t.same(kinds(h.changes), ['resync:', 'resync:101#1', '-101#1'], 'the snapshot first, then the remove')
  t.notOk((h.changes[2] as { uncertain?: boolean }).uncertain, 'read by the snapshot: a certain remove')
  t.equal(h.feed.oldestPendingUpsert(), null)
})

t.test('a failed read waiting for its snapshot is released by stop()', async (t) => {
  const h = await started(t)
  h.link.connected = false // no snapshot will come
  h.reader.participantError.set('101/1', new Error('socket hang up'))
  await h.send(0, '101', 1)
  t.not(h.feed.oldestPendingUpsert(), null)
  await h.feed.stop()
  t.equal(h.feed.oldestPendingUpsert(), null)
})

t.test('reads of different participants answer in any order; their changes come in the order announced', async (t) => {
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 1, { status: 'Dialing' }))
  h.reader.dns.push({ dn: '10000', type: 'Wexternalline', devices: [], participants: [participant('10000', 2, { status: 'Connected' })] })
  const slow = gate()
  h.reader.participantGate.set('101/1', slow.promise)
  await h.send(0, '101', 1) // the caller's leg: its read is slow
  await h.send(0, '10000', 2) // the trunk's: answered first
  await h.send(1, '101', 9) // a remove needs no read, but comes after both
  t.same(kinds(h.changes), ['resync:'], 'nothing before the first read answers')
  t.equal(h.reader.readsOf('10000/2'), 1, 'the second read did not wait for the first')
  h.reader.participantGate.delete('101/1')
  slow.open()
  await settle()
  t.same(kinds(h.changes), ['resync:', '+101#1 Dialing', '+10000#2 Connected', '-101#9'])
  t.equal(h.feed.oldestPendingUpsert(), null)
})

t.test('a failed read does not hold the changes of other participants; a read covered by a snapshot holds none after it', async (t) => {
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 1), participant('101', 2))
  h.reader.participantError.set('101/1', new PbxError('PBX_ERROR', 'the PBX answered 500', 502, 500))
  await h.send(0, '101', 1)
  await h.send(0, '101', 2)
  t.same(kinds(h.changes), ['resync:', '+101#2 Ringing'], 'the next participant goes on while the failed one waits for its snapshot')
  h.reader.participantError.delete('101/1')
  await h.clock.advance(20)
  await settle()
  t.same(kinds(h.changes).slice(2), ['resync:101#1,101#2'])

  // A read that hangs past its abort (the snapshot covers it) does not hold the events after the snapshot.
  const stuck = gate()
  h.reader.participantGate.set('101/1', stuck.promise)
  h.reader.deaf.add('101/1')
  h.reader.dns[0].participants[0].status = 'Connected'
  await h.send(0, '101', 1)
  await h.clock.advance(1500)
  h.reader.dns[0].participants[1].status = 'Connected'
  await h.send(0, '101', 2) // behind: a catch-up snapshot, then this read
  await settle()
  t.equal(h.feed.catchUps, 1)
  t.same(kinds(h.changes).slice(3), ['resync:101#1,101#2'], 'the snapshot has both changes; the read after it is no change')
  h.reader.dns[0].participants.pop()
  await h.send(1, '101', 2)
  t.same(kinds(h.changes).slice(4), ['-101#2'], 'not held by the hanging read')
  stuck.open()
  await settle()
  t.equal(h.changes.length, 5, 'its late answer is no change')
})

t.test('a remove behind a read that fell behind brings the catch-up snapshot too', async (t) => {
  const h = await started(t)
  const stuck = gate()
  h.reader.participantGate.set('101/1', stuck.promise)
  h.reader.dns[0].participants.push(participant('101', 1, { status: 'Connected' }), participant('101', 2, { status: 'Connected' }))
  await h.send(0, '101', 1)
  await h.send(0, '101', 2)
  await h.clock.advance(200)
  h.reader.dns[0].participants.pop()
  const read = gate()
  h.reader.snapshotGate = read.promise // the PBX takes a moment to answer it
  await h.send(1, '101', 2) // the hang-up: behind the stuck read, past catchUpAfterMs
  t.equal(h.feed.catchUps, 1, 'a snapshot instead of waiting for the read\'s timeout')
  t.match(h.changes.slice(1), [{ kind: 'remove', dn: '101', id: 2, uncertain: true }], 'the hang-up at once (its last change unread: uncertain)')
  h.reader.snapshotGate = null
  read.open()
  await settle()
  t.same(kinds(h.changes), ['resync:', '-101#2', 'resync:101#1'], 'then the snapshot')
  stuck.open()
})
