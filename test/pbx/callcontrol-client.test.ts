import t from 'tap'
import { clientsFor, until } from './pbx-fixture.js'
import { gate, participant, startFakeCallControl, type FakeCallControl } from './fake-callcontrol.js'
import { isSuccessStatus, parseEventMessage } from '../../src/pbx/callcontrol-client.js'
import type { ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import type { PbxClients } from '../../src/pbx/pbx-clients.js'

async function connected (t: Parameters<typeof clientsFor>[0], fake: FakeCallControl, opts: Parameters<typeof clientsFor>[3] = {}): Promise<{ clients: PbxClients, changes: ParticipantChange[] }> {
  const clients = clientsFor(t, fake.url, {}, opts)
  const changes: ParticipantChange[] = []
  clients.callControl.onChange((c) => changes.push(c))
  clients.callControl.start()
  await clients.callControl.ready()
  return { clients, changes }
}

const kinds = (changes: ParticipantChange[]): string[] => changes.map((c) =>
  c.kind === 'resync' ? `resync:${c.dns.flatMap((d) => d.participants.map((p) => `${p.dn}#${p.id}`)).join(',')}` : c.kind === 'upsert' ? `+${c.participant.dn}#${c.participant.id} ${c.participant.status}` : `-${c.dn}#${c.id}`)

t.test('event messages: upserts and removes of participants; everything else ignored', async (t) => {
  const msg = (type: unknown, entity: unknown): string => JSON.stringify({ sequence: 1, event: { event_type: type, entity, attached_data: null } })
  t.same(parseEventMessage(msg(0, '/callcontrol/101/participants/7')), { kind: 'upsert', dn: '101', id: 7 })
  t.same(parseEventMessage(msg('1', '/callcontrol/101/participants/7')), { kind: 'remove', dn: '101', id: 7 })
  t.equal(parseEventMessage(msg(2, '/callcontrol/101/participants/7')), null, 'DTMF ignored')
  t.equal(parseEventMessage(msg(5, '/callcontrol/101/participants/7')), null)
  t.equal(parseEventMessage(msg(0, '/callcontrol/101/devices/sip%3A101')), null, 'device entities ignored')
  t.equal(parseEventMessage(msg(0, '/callcontrol/%E0%A4%A/participants/1')), null)
  t.equal(parseEventMessage('not json'), null)
  t.equal(parseEventMessage('null'), null)
  t.same([isSuccessStatus(1), isSuccessStatus('Success'), isSuccessStatus('1'), isSuccessStatus(0), isSuccessStatus('Failed'), isSuccessStatus(-1)], [true, true, true, false, false, false])
})

t.test('first snapshot, then upserts fetched, duplicates dropped, removes without a GET', async (t) => {
  const fake = await startFakeCallControl(t)
  fake.dns[1].participants.push(participant('800', 1, { status: 'Connected' }))
  const { clients, changes } = await connected(t, fake)
  t.ok(clients.callControl.connected)
  t.same(kinds(changes), ['resync:800#1'])

  fake.dns[0].participants.push(participant('101', 2))
  fake.send(0, '101', 2)
  fake.send(0, '101', 2) // the PBX often repeats an upsert: the fetch not begun yet reads it too
  fake.send(3, '101', 2) // unknown type
  await until(() => changes.length >= 2, 2000, 'ringing upsert')
  await new Promise((resolve) => setTimeout(resolve, 50))
  fake.dns[0].participants[0].status = 'Connected'
  fake.send(0, '101', 2)
  fake.send(0, '800', 1) // unchanged since the snapshot: dropped
  await until(() => changes.length >= 3, 2000, 'connected upsert')
  await until(() => fake.requests.includes('GET /callcontrol/800/participants/1'), 2000, 'queue fetch')
  fake.dns[0].participants.length = 0
  fake.send(1, '101', 2)
  await until(() => changes.length >= 4, 2000, 'remove')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(kinds(changes), ['resync:800#1', '+101#2 Ringing', '+101#2 Connected', '-101#2'])
  const upsert = changes[1] as Extract<ParticipantChange, { kind: 'upsert' }>
  t.equal(upsert.dnType, 'Wextension', 'DN type from the snapshot')
  t.ok(Math.abs(upsert.at - Date.now()) < 5000, 'stamped with the gateway clock')
  // Two for Ringing (or one when the repeat came before the first fetch began), one for Connected.
  t.ok(fake.requests.filter((r) => r.startsWith('GET /callcontrol/101/participants/2')).length <= 3, 'no GET for the remove')
})

t.test('an upsert whose participant is gone by the fetch emits a remove, once', async (t) => {
  const fake = await startFakeCallControl(t)
  const { changes } = await connected(t, fake)
  fake.send(0, '101', 9) // never existed by the time it is fetched → 404
  fake.send(1, '101', 9)
  fake.send(0, '101', 9)
  await until(() => changes.length >= 2, 2000, 'remove')
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.same(kinds(changes), ['resync:', '-101#9'])
  t.match(changes[1], { kind: 'remove', uncertain: true }, 'what changed before it went was never read')
})

t.test('events for one participant are handled one after another, in order; repeats queued behind a fetch are fetched once', async (t) => {
  const fake = await startFakeCallControl(t)
  const { changes } = await connected(t, fake)
  const p = participant('101', 3)
  fake.dns[0].participants.push(p)
  const slow = gate()
  fake.participantGate.set('101/3', slow.promise)
  fake.send(0, '101', 3) // fetched slowly
  await until(() => fake.requests.includes('GET /callcontrol/101/participants/3'), 2000, 'first fetch')
  p.status = 'Connected'
  for (let i = 0; i < 5; i++) fake.send(0, '101', 3) // the PBX repeats upserts
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(fake.requests.filter((r) => r === 'GET /callcontrol/101/participants/3').length, 1, 'second fetch waits for the first')
  fake.participantGate.delete('101/3')
  slow.open()
  await until(() => changes.length >= 2, 2000, 'upsert')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(kinds(changes), ['resync:', '+101#3 Connected'], 'the newest state wins; the repeat is dropped')
  t.equal(fake.requests.filter((r) => r === 'GET /callcontrol/101/participants/3').length, 2, 'the one in flight and one for the five repeats')
})

t.test('fetches that fall behind are replaced by one snapshot; a call end waits for it', async (t) => {
  const fake = await startFakeCallControl(t)
  const { clients, changes } = await connected(t, fake, { catchUpAfterMs: 150 })
  const cc = clients.callControl
  t.equal(cc.oldestPendingUpsert(), null)
  // The fetch of 101/6 hangs (a PBX too slow to keep up).
  const stuck = gate()
  fake.participantGate.set('101/6', stuck.promise)
  fake.dns[0].participants.push(participant('101', 6, { status: 'Connected' }))
  fake.send(0, '101', 6)
  await until(() => fake.requests.includes('GET /callcontrol/101/participants/6'), 2000, 'stuck fetch')
  fake.send(0, '101', 6) // queued behind the stuck fetch
  const snapshotsBefore = fake.requests.filter((r) => r === 'GET /callcontrol').length
  await new Promise((resolve) => setTimeout(resolve, 200))
  // The next change finds the oldest pending one older than 150 ms: a snapshot instead.
  const held = gate()
  fake.snapshotGate = held.promise
  fake.dns[0].participants.push(participant('101', 7, { status: 'Ringing' }))
  fake.send(0, '101', 7)
  await until(() => fake.requests.filter((r) => r === 'GET /callcontrol').length > snapshotsBefore, 2000, 'catch-up snapshot')
  t.equal(cc.catchUps, 1)
  const pendingSince = cc.oldestPendingUpsert()
  t.ok(pendingSince !== null && pendingSince <= Date.now(), 'a call end waits while the snapshot is fetched')
  fake.snapshotGate = null
  held.open()
  await until(() => changes.some((c) => c.kind === 'resync' && c.dns.some((d) => d.participants.length === 2)), 2000, 'snapshot applied')
  t.equal(cc.oldestPendingUpsert(), null, 'the stuck fetch no longer holds call ends: the snapshot covers it')
  fake.participantGate.delete('101/6')
  stuck.open()
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.same(kinds(changes), ['resync:', 'resync:101#6,101#7'], 'the stale fetch and the queued one are covered by the snapshot')
  fake.dns[0].participants.length = 0
  fake.send(1, '101', 6)
  await until(() => changes.length >= 3, 2000, 'remove')
  t.same(changes[2], { kind: 'remove', dn: '101', id: 6, at: (changes[2] as { at: number }).at }, 'read by the snapshot: a certain remove')
  t.equal(fake.requests.filter((r) => r === 'GET /callcontrol/101/participants/6').length, 1, 'the change queued before the snapshot was not fetched')
})

t.test('a remove queued behind changes left to a pending snapshot is uncertain', async (t) => {
  const fake = await startFakeCallControl(t)
  const { clients, changes } = await connected(t, fake, { catchUpAfterMs: 150 })
  const stuck = gate()
  fake.participantGate.set('101/8', stuck.promise)
  t.teardown(() => { stuck.open() })
  fake.dns[0].participants.push(participant('101', 8))
  fake.send(0, '101', 8)
  await until(() => fake.requests.includes('GET /callcontrol/101/participants/8'), 2000, 'stuck fetch')
  fake.dns[0].participants[0].status = 'Connected' // answered: a change the gateway will not read
  fake.send(0, '101', 8)
  fake.dns[0].participants.length = 0
  fake.send(1, '101', 8)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const held = gate()
  fake.snapshotGate = held.promise
  fake.send(0, '101', 99) // the next change finds the fetches behind: a snapshot, held
  await until(() => changes.some((c) => c.kind === 'remove'), 2000, 'the queued remove')
  t.match(changes.find((c) => c.kind === 'remove'), { kind: 'remove', dn: '101', id: 8, uncertain: true })
  t.equal(clients.callControl.catchUps, 1)
  fake.snapshotGate = null
  held.open()
  await until(() => changes.filter((c) => c.kind === 'resync').length === 2, 2000, 'snapshot applied')
})

t.test('events that arrive during the snapshot are applied after it', async (t) => {
  const fake = await startFakeCallControl(t)
  const held = gate()
  fake.snapshotGate = held.promise
  const clients = clientsFor(t, fake.url)
  const changes: ParticipantChange[] = []
  clients.callControl.onChange((c) => changes.push(c))
  clients.callControl.start()
  await until(() => fake.requests.includes('GET /callcontrol'), 2000, 'snapshot request')
  // The snapshot was taken before this participant appeared; its event must not be lost or applied first.
  fake.dns[0].participants.push(participant('101', 4, { status: 'Dialing' }))
  fake.send(0, '101', 4)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(changes, [], 'nothing before the snapshot')
  t.notOk(fake.requests.includes('GET /callcontrol/101/participants/4'), 'not fetched while the snapshot is pending')
  held.open()
  await clients.callControl.ready()
  await until(() => changes.length >= 2, 2000, 'buffered event')
  t.same(kinds(changes), ['resync:', '+101#4 Dialing'])
})

t.test('a dropped WebSocket reconnects and resyncs; a 401 upgrade refreshes the token', async (t) => {
  const fake = await startFakeCallControl(t)
  const { clients, changes } = await connected(t, fake)
  t.equal(clients.callControl.reconnects, 0)
  t.equal(clients.callControl.blindSince(), null, 'sees the PBX once its snapshot is applied')
  fake.refuseUpgrades.push(401)
  const dropped = Date.now()
  for (const s of fake.sockets) s.terminate()
  await until(() => clients.callControl.blindSince() !== null, 2000, 'blind')
  t.ok((clients.callControl.blindSince() ?? 0) >= dropped - 50, 'blind since the drop')
  await until(() => changes.filter((c) => c.kind === 'resync').length === 2, 5000, 'second resync')
  t.equal(clients.callControl.blindSince(), null, 'sees again after the new snapshot')
  t.equal(clients.callControl.reconnects, 1)
  t.ok(clients.callControl.connected)
  t.equal(fake.tokensIssued, 2, 'the refused token was replaced')
  t.equal(fake.requests.filter((r) => r === 'UPGRADE /callcontrol/ws').length, 3)
})

t.test('a socket that stops answering pings is terminated and replaced', async (t) => {
  const fake = await startFakeCallControl(t)
  const { clients, changes } = await connected(t, fake, { pingIntervalMs: 100 })
  for (const s of fake.sockets) (s as unknown as { _socket: { pause: () => void } })._socket.pause()
  await until(() => changes.filter((c) => c.kind === 'resync').length === 2, 5000, 'resync after a silent socket')
  t.equal(clients.callControl.reconnects, 1)
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
