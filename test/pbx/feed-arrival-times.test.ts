// What the change feed knows of when events arrived: catch-up snapshots tell when their participants'
// first events came and which went while the snapshot was read. A live upsert is dated by its latest
// event (the read shows that change or an older one), a remove by its event too (docs/webhooks.md).
import t from 'tap'
import { gate, participant } from './fake-callcontrol.js'
import { msg, started } from './feed-harness.js'
import { settle } from '../fake-clock.js'

t.test('an answer read late is dated by its event; a remove queued behind that read, and one behind another participant\'s read, by theirs', async (t) => {
  // Emitted in the PBX's order (feed-turns.ts), a remove comes after every change announced before it:
  // a call's end dated by it no longer falls due before the reads that continue the call (a9c0764, 44b9f19).
  const h = await started(t)
  h.reader.participantAnswer.set('101/2', participant('101', 2, { status: 'Connected' }))
  const slow = gate()
  h.reader.participantGate.set('101/2', slow.promise)
  await h.clock.advance(10)
  const answered = h.clock.now()
  await h.send(0, '101', 2)
  await h.clock.advance(100)
  const hungUp = h.clock.now()
  await h.send(1, '101', 2) // queued behind the read of 101/2
  await h.clock.advance(40) // still within catchUpAfterMs of the read (150 ms): no snapshot
  const other = h.clock.now()
  await h.send(1, '101', 7) // another participant's: its turn comes after that read too
  await h.clock.advance(1360)
  t.equal(h.changes.length, 1, 'nothing before the slow read answers')
  slow.open()
  await settle()
  t.match(h.changes.slice(1), [
    { kind: 'upsert', participant: { dn: '101', id: 2, status: 'Connected' }, at: answered },
    { kind: 'remove', dn: '101', id: 2, at: hungUp },
    { kind: 'remove', dn: '101', id: 7, at: other }
  ], 'the answer when its event came, 1.5 s before its read; the hang-ups when theirs came')
})

t.test('a catch-up snapshot tells when the first events of its participants arrived', async (t) => {
  const h = await started(t)
  const stuck = gate()
  h.reader.participantGate.set('101/6', stuck.promise)
  h.reader.dns[0].participants.push(participant('101', 6, { status: 'Connected' }))
  await h.clock.advance(10)
  const rang = h.clock.now()
  await h.send(0, '101', 6) // its read never comes back
  await h.clock.advance(100)
  await h.send(0, '101', 6)
  await h.send(0, '101', 9) // gone before the snapshot: not in it
  await h.send(1, '101', 9)
  await h.clock.advance(30)
  h.reader.dns[0].participants.push(participant('101', 7))
  const seven = h.clock.now()
  await h.send(0, '101', 7)
  await h.clock.advance(100)
  await h.send(0, '101', 8) // gone by the snapshot; 230 ms behind: a snapshot instead
  await settle()
  t.equal(h.feed.catchUps, 1)
  const resync = h.changes.find((c, i) => i > 0 && c.kind === 'resync')
  t.match(resync, { kind: 'resync', at: h.clock.now(), firstEvents: { '101/6': rang, '101/7': seven } }, 'the first event of each, not the latest')
  t.same(Object.keys(resync?.kind === 'resync' ? resync.firstEvents ?? {} : {}).sort(), ['101/6', '101/7'], 'only participants the snapshot shows')

  // A lost link: the PBX may restart and number participants anew, so earlier events tell nothing.
  h.feed.closed()
  h.feed.opened()
  await settle()
  t.same(h.changes.at(-1), { kind: 'resync', dns: h.reader.dns, at: h.clock.now() })
})

t.test('reads that waited for a catch-up snapshot are behind only from when it was applied: no snapshot after snapshot', async (t) => {
  const h = await started(t) // catch-up after 150 ms
  const stuck = gate()
  h.reader.participantGate.set('101/6', stuck.promise)
  await h.send(0, '101', 6)
  await h.clock.advance(200)
  const slow = gate()
  h.reader.snapshotGate = slow.promise
  await h.send(0, '101', 7) // 200 ms behind: a snapshot, which takes 300 ms
  t.equal(h.feed.catchUps, 1)
  h.reader.participantGate.set('101/8', gate().promise)
  await h.send(0, '101', 8) // arrives meanwhile, read once the snapshot is applied
  await h.clock.advance(300)
  h.reader.snapshotGate = null
  slow.open()
  await settle()
  await h.clock.advance(100)
  await h.send(0, '101', 9) // 101/8 waited 400 ms, but its read began 100 ms ago
  t.equal(h.feed.catchUps, 1, 'no second snapshot')
  t.equal(h.feed.oldestPendingUpsert(), h.clock.now() - 400, 'a call end still waits for it as announced')
  await h.clock.advance(100)
  await h.send(0, '101', 10) // now 200 ms since its read could begin: behind
  t.equal(h.feed.catchUps, 2)
})

t.test('a catch-up snapshot tells which participants it no longer shows went while it was read, as announced', async (t) => {
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 2, { status: 'Connected' }))
  await h.send(0, '101', 2) // read: the feed knows its latest state
  const stuck = gate()
  h.reader.participantGate.set('101/6', stuck.promise)
  h.reader.dns[0].participants.push(participant('101', 6))
  await h.send(0, '101', 6)
  await h.clock.advance(200)
  const slow = gate()
  h.reader.snapshotGate = slow.promise
  h.reader.dns[0].participants = [] // both gone by the time the PBX answers the snapshot
  await h.send(0, '101', 7) // behind: a snapshot
  t.equal(h.feed.catchUps, 1)
  await h.clock.advance(50)
  const hungUp = h.clock.now()
  h.feed.message(msg(1, '101', 2)) // while the snapshot is read
  h.feed.message(msg(1, '101', 6)) // its last change was never read: what it did before it went is unknown
  await h.clock.advance(300)
  h.reader.snapshotGate = null
  slow.open()
  await settle()
  const resync = h.changes.find((c, i) => i > 0 && c.kind === 'resync')
  t.match(resync, { kind: 'resync', removedAt: { '101/2': hungUp } })
  t.same(Object.keys(resync?.kind === 'resync' ? resync.removedAt ?? {} : {}), ['101/2'], 'only the participant whose every change was read')
})

t.test('the first snapshot of a new link dates no remove: what the participants did before the link opened was not seen', async (t) => {
  // A gateway restarted (or reconnected) while 101 rang: its answer came before the new link opened,
  // its hang-up while that link's first snapshot was read. Dated as seen, the ringing leg went
  // unanswered: an answered call was announced Missed (sigkill fault scenario, 2026-12-07).
  const h = await started(t)
  h.reader.dns[0].participants.push(participant('101', 2))
  await h.send(0, '101', 2) // read ringing on the old link
  h.feed.closed()
  h.link.connected = false
  const slow = gate()
  h.reader.snapshotGate = slow.promise
  h.reader.dns[0].participants = [] // answered and hung up: gone by the time the PBX answers the snapshot
  h.link.connected = true
  h.feed.opened()
  await h.clock.advance(50)
  h.feed.message(msg(1, '101', 2)) // while the new link's snapshot is read
  await h.clock.advance(300)
  h.reader.snapshotGate = null
  slow.open()
  await settle()
  const resync = h.changes.find((c, i) => i > 0 && c.kind === 'resync')
  t.ok(resync !== undefined && resync.kind === 'resync' && resync.removedAt === undefined, 'gone at some moment of the gap: no time given')
})
