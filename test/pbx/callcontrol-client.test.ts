// The Call Control client as the gateway uses it: socket, change feed and REST together against a
// fake PBX on real sockets, with the client's timers on fake time. The feed's orderings are tested
// exactly in callcontrol-feed.test.ts, the socket's in callcontrol-socket.test.ts.
import t from 'tap'
import { clientsFor, until } from './pbx-fixture.js'
import { participant, startFakeCallControl, type FakeCallControl } from './fake-callcontrol.js'
import { isSuccessStatus } from '../../src/pbx/callcontrol-client.js'
import type { ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import type { PbxClients } from '../../src/pbx/pbx-clients.js'
import { FakeClock } from '../fake-clock.js'

interface Connected { clients: PbxClients, changes: ParticipantChange[], clock: FakeClock }

async function connected (t: Parameters<typeof clientsFor>[0], fake: FakeCallControl, opts: Parameters<typeof clientsFor>[3] = {}): Promise<Connected> {
  const clock = new FakeClock()
  const clients = clientsFor(t, fake.url, {}, { clock, ...opts })
  const changes: ParticipantChange[] = []
  clients.callControl.onChange((c) => changes.push(c))
  clients.callControl.start()
  await clients.callControl.ready()
  return { clients, changes, clock }
}

const kinds = (changes: ParticipantChange[]): string[] => changes.map((c) =>
  c.kind === 'resync' ? `resync:${c.dns.flatMap((d) => d.participants.map((p) => `${p.dn}#${p.id}`)).join(',')}` : c.kind === 'upsert' ? `+${c.participant.dn}#${c.participant.id} ${c.participant.status}` : `-${c.dn}#${c.id}`)

const resyncs = (changes: ParticipantChange[]): number => changes.filter((c) => c.kind === 'resync').length

t.test('first snapshot, then upserts read over REST, removes without a read', async (t) => {
  const fake = await startFakeCallControl(t)
  fake.dns[1].participants.push(participant('800', 1, { status: 'Ringing' }))
  const { clients, changes, clock } = await connected(t, fake)
  t.ok(clients.callControl.connected)
  t.equal(clients.callControl.blindSince(), null, 'sees the PBX once its snapshot is applied')
  t.same(kinds(changes), ['resync:800#1'])

  fake.dns[0].participants.push(participant('101', 2))
  fake.send(0, '101', 2)
  fake.send(3, '101', 2) // unknown type
  await until(() => changes.length >= 2, 2000, 'ringing upsert')
  fake.dns[0].participants[0].status = 'Connected'
  fake.send(0, '101', 2)
  await until(() => changes.length >= 3, 2000, 'connected upsert')
  fake.dns[0].participants.length = 0
  fake.send(1, '101', 2)
  await until(() => changes.length >= 4, 2000, 'remove')
  fake.dns[1].participants[0].status = 'Connected'
  fake.send(0, '800', 1)
  await until(() => changes.length >= 5, 2000, 'queue upsert')
  t.same(kinds(changes), ['resync:800#1', '+101#2 Ringing', '+101#2 Connected', '-101#2', '+800#1 Connected'])
  t.match(changes[1], { kind: 'upsert', dnType: 'Wextension', at: clock.now() }, 'DN type from the snapshot, stamped with the injected clock')
  t.match(changes[4], { dnType: 'Wqueue' })
  t.equal(fake.requests.filter((r) => r.startsWith('GET /callcontrol/101/participants/2')).length, 2, 'no read for the remove')
  t.equal(clients.callControl.catchUps, 0)
  t.equal(clients.callControl.oldestPendingUpsert(), null)
})

t.test('a dropped WebSocket reconnects after the back-off and resyncs; a 401 upgrade refreshes the token', async (t) => {
  const fake = await startFakeCallControl(t)
  const { clients, changes, clock } = await connected(t, fake)
  const cc = clients.callControl
  t.equal(cc.reconnects, 0)
  fake.refuseUpgrades.push(401)
  const dropped = clock.now()
  for (const s of fake.sockets) s.terminate()
  await until(() => cc.blindSince() !== null && clock.pending === 1, 2000, 'blind, a reconnect scheduled')
  t.equal(cc.blindSince(), dropped, 'blind since the drop')
  t.notOk(cc.connected)
  await clock.advanceToNext()
  await until(() => fake.requests.filter((r) => r === 'UPGRADE /callcontrol/ws').length === 2 && clock.pending === 1, 2000, 'refused, a reconnect scheduled')
  t.equal(resyncs(changes), 1, 'nothing seen while refused')
  await clock.advanceToNext()
  await until(() => resyncs(changes) === 2, 2000, 'second resync')
  t.equal(cc.blindSince(), null, 'sees again after the new snapshot')
  t.equal(cc.reconnects, 1)
  t.ok(cc.connected)
  t.equal(fake.tokensIssued, 2, 'the refused token was replaced')
  t.equal(fake.requests.filter((r) => r === 'UPGRADE /callcontrol/ws').length, 3)
})

t.test('a failed snapshot drops the socket; the reconnect brings the next one', async (t) => {
  const fake = await startFakeCallControl(t)
  fake.failSnapshots.push(500)
  const clock = new FakeClock()
  const clients = clientsFor(t, fake.url, {}, { clock })
  const changes: ParticipantChange[] = []
  clients.callControl.onChange((c) => changes.push(c))
  clients.callControl.start()
  await until(() => fake.requests.includes('GET /callcontrol') && clock.pending === 1 && !clients.callControl.connected, 2000, 'dropped after the failed snapshot')
  t.equal(clients.callControl.blindSince(), clock.now(), 'blind from the start')
  await clock.advanceToNext()
  await clients.callControl.ready()
  t.same(kinds(changes), ['resync:'])
  t.equal(clients.callControl.reconnects, 1)
})

t.test('a participant read that fails takes a new snapshot after the back-off base', async (t) => {
  const fake = await startFakeCallControl(t)
  const { clients, changes, clock } = await connected(t, fake)
  fake.dns[0].participants.push(participant('101', 5))
  fake.participantStatus.set('101/5', 500) // not a 404, and not retried
  fake.send(0, '101', 5)
  await until(() => clock.pending === 2, 2000, 'a snapshot scheduled (beside the ping timer)')
  t.equal(changes.length, 1)
  await clock.advanceToNext()
  await until(() => resyncs(changes) === 2, 2000, 'the new snapshot')
  t.same(kinds(changes), ['resync:', 'resync:101#5'])
  t.ok(clients.callControl.connected)
})

t.test('stop() closes the socket and rejects a pending ready()', async (t) => {
  const fake = await startFakeCallControl(t)
  fake.snapshotGate = new Promise(() => {})
  const clients = clientsFor(t, fake.url)
  clients.callControl.start()
  const ready = clients.callControl.ready()
  await until(() => fake.sockets.size === 1, 2000, 'socket')
  await clients.callControl.stop()
  await t.rejects(ready, /stopped/)
  t.notOk(clients.callControl.connected)
  await until(() => fake.sockets.size === 0, 2000, 'server side closed')
})

t.test('makecall and actions: results as number or string; refusals are PbxErrors; never retried', async (t) => {
  const fake = await startFakeCallControl(t)
  const clients = clientsFor(t, fake.url)
  const cc = clients.callControl
  const ok = { finalstatus: 'Success', reason: 'None', reasontext: '', result: participant('101', 11, { status: 'Dialing' }) }
  fake.postAnswers.set('/callcontrol/101/makecall', { status: 200, body: ok })
  t.match(await cc.makeCall('101', { destination: '102' }), { result: { id: 11 } })
  fake.postAnswers.set('/callcontrol/101/devices/sip%3A101%40127.0.0.1%3A5060/makecall', { status: 200, body: { finalstatus: 1, reason: '', reasontext: '' } })
  t.match(await cc.makeCall('101', { destination: '102' }, 'sip:101@127.0.0.1:5060'), { finalstatus: 1 })
  fake.postAnswers.set('/callcontrol/101/participants/11/drop', { status: 200, body: { finalstatus: 'Failed', reason: 'x', reasontext: '', result: participant('101', 11) } })
  t.match(await cc.action('101', 11, 'drop'), { finalstatus: 'Failed' }, 'a present result.id counts as success')
  fake.postAnswers.set('/callcontrol/101/participants/11/divert', { status: 200, body: { finalstatus: -1, reason: 'NotAllowed', reasontext: 'Participant is connected' } })
  await t.rejects(cc.action('101', 11, 'divert', { destination: '103' }), { code: 'PBX_REJECTED', message: /Participant is connected/ })
  fake.postAnswers.set('/callcontrol/101/participants/11/answer', { status: 422, body: { reasontext: 'Device does not support direct control' } })
  await t.rejects(cc.action('101', 11, 'answer'), { code: 'PBX_REJECTED', pbxStatus: 422, message: /direct control/ })
  fake.postAnswers.set('/callcontrol/102/makecall', { status: 403, body: {} })
  await t.rejects(cc.makeCall('102', { destination: '1' }), { code: 'PBX_FORBIDDEN', message: /extensions to monitor/ })
  fake.postAnswers.set('/callcontrol/103/makecall', { status: 503, body: {} })
  await t.rejects(cc.makeCall('103', { destination: '1' }), { code: 'PBX_ERROR', pbxStatus: 503 })
  t.equal(fake.requests.filter((r) => r === 'POST /callcontrol/103/makecall').length, 1, 'a makecall is never retried')
  await t.rejects(cc.action('101', 11, 'hold' as never), { code: 'PBX_REJECTED', status: 400 })
  await t.rejects(cc.action('101', -1, 'drop'), { code: 'PBX_REJECTED', status: 400 })
  await t.rejects(cc.makeCall('104', { destination: '1' }), { code: 'PBX_NOT_FOUND' })
  t.same(await cc.snapshot(), fake.dns, 'a snapshot on request, without the WebSocket')
  t.same([isSuccessStatus(1), isSuccessStatus('Success'), isSuccessStatus('1'), isSuccessStatus(0), isSuccessStatus('Failed'), isSuccessStatus(-1)], [true, true, true, false, false, false])
})

t.test('observe records the upgrade and REST calls with route templates only', async (t) => {
  const fake = await startFakeCallControl(t)
  const seen: string[] = []
  const { clients } = await connected(t, fake, { observe: (o) => seen.push(`${o.api} ${o.method} ${o.route} ${String(o.status)}`) })
  fake.dns[0].participants.push(participant('101', 21))
  fake.send(0, '101', 21)
  await until(() => seen.some((s) => s.includes('participants')), 2000, 'participant fetch')
  t.same(seen, ['token POST connect/token 200', 'callcontrol GET callcontrol/ws 101', 'callcontrol GET callcontrol 200', 'callcontrol GET callcontrol/{dn}/participants/{id} 200'])
  t.ok(clients.tokens.valid)
})
