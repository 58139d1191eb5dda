// State tied to the PBX it came from (issue 15): on another PBX, or one whose call counter began
// again, the calls in progress, the unseen-calls counter and pending recordings are discarded, the
// outbox is kept; a PBX that cannot be read at start leaves everything as it is.
import t from 'tap'
import { createHash } from 'node:crypto'
import { openDatabase, type SqliteDatabase } from '../src/store/database.js'
import { SqliteCallStateStore } from '../src/store/sqlite-call-state.js'
import { SqliteUnseenCallStore } from '../src/store/sqlite-unseen-calls.js'
import { SqliteRecordingIndex } from '../src/store/sqlite-recording-index.js'
import { SqliteOutbox } from '../src/store/sqlite-outbox.js'
import { SqliteStateOrigin } from '../src/store/sqlite-state-origin.js'
import { checkStateOrigin, originChange, pbxIdentityOf, readPbxIdentity, type PbxIdentity, type StateOriginOptions } from '../src/state-origin.js'
import { callLogCounterWentBack, counterWentBackRequest } from '../src/pbx/call-log-query.js'
import { legKeyOf, type EndedLeg } from '../src/recordings/recording-index.js'
import { ringing, target, tempDir } from './webhooks/helpers.js'
import { clientsFor, pbxEnv, startCall, startSim, until } from './pbx/pbx-fixture.js'
import { PBX } from './sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const DIRECT_CALL = { from: '+15557654321', to: PBX.n('+15550102'), answer: PBX.n('102') }

const PBX_A = pbxIdentityOf({ FQDN: 'a.example.com', LicenseKey: 'AAAA-1111' })

function leg (n: number): EndedLeg {
  return { callid: n, chid: `250101000000_${n}`, legacyId: `250101000000_${n}-1`, dn: '101', participantIds: [n], startedAt: 1000, endedAt: 2000 }
}

interface Stored { db: SqliteDatabase, origin: SqliteStateOrigin, unseen: SqliteUnseenCallStore, calls: SqliteCallStateStore, index: SqliteRecordingIndex, outbox: SqliteOutbox }

/** A DATA_DIR with state of every kind: a call in progress, unseen calls, a waiting and an announced recording, an undelivered webhook. */
function stored (t: { teardown: (fn: () => void) => void }): Stored {
  const db = openDatabase(tempDir(t))
  t.teardown(() => { db.close() })
  const s = { db, origin: new SqliteStateOrigin(db), unseen: new SqliteUnseenCallStore(db), calls: new SqliteCallStateStore(db), index: new SqliteRecordingIndex(db), outbox: new SqliteOutbox(db, { targets: [target('crm', 'http://127.0.0.1:9/hook')] }) }
  s.calls.write([{ callid: 1011, chid: '261205080147_1011', state: {} as never }], [])
  s.unseen.saveHighest(1020, 5000)
  s.unseen.addMissing([{ callid: 1015, since: 4000, after: 3000 }])
  s.index.addLeg(leg(1011))
  s.index.addLeg(leg(1012))
  s.index.setLegState(legKeyOf(leg(1012)), 'announced')
  s.outbox.enqueue(ringing(1011, 1))
  return s
}

interface Counts { calls: number, unseen: number, highest: number | null, waitingLegs: number, announcedLegs: number, pendingDeliveries: number }

async function counts (s: Stored): Promise<Counts> {
  const unseen = await s.unseen.load()
  return {
    calls: (await s.calls.loadAll()).length,
    unseen: unseen.missing.length,
    highest: unseen.highest,
    waitingLegs: s.index.legsIn('waiting').length,
    announcedLegs: s.index.legsIn('announced').length,
    pendingDeliveries: s.outbox.depth().crm.pending
  }
}

const ALL: Counts = { calls: 1, unseen: 1, highest: 1020, waitingLegs: 1, announcedLegs: 1, pendingDeliveries: 1 }

function check (s: Stored, over: Partial<StateOriginOptions> & { identity?: PbxIdentity }, lines: string[]): Promise<string> {
  return checkStateOrigin({
    store: s.origin,
    readIdentity: async () => over.identity ?? PBX_A,
    lastCall: async () => ({ callid: 1020, at: 5000 }),
    counterWentBack: async () => false,
    log: { info: (_o, m) => { lines.push(`info ${String(m)}`) }, warn: (_o, m) => { lines.push(`warn ${String(m)}`) } },
    ...over
  })
}

t.test('the identity: FQDN and the SHA-256 of the license key, never the key', async (t) => {
  t.same(PBX_A, { fqdn: 'a.example.com', licenseSha256: createHash('sha256').update('AAAA-1111').digest('hex') })
  t.notMatch(JSON.stringify(PBX_A), /AAAA-1111/)
  t.equal(originChange(PBX_A, PBX_A, false), null)
  t.match(originChange(PBX_A, { ...PBX_A, fqdn: 'b.example.com' }, false), /was a\.example\.com and is now b\.example\.com/)
  t.match(originChange(PBX_A, pbxIdentityOf({ FQDN: 'a.example.com', LicenseKey: 'BBBB' }), false), /another license key/)
  t.match(originChange(PBX_A, PBX_A, true), /call counter .* began again/)
  t.same(pbxIdentityOf({}), { fqdn: '', licenseSha256: createHash('sha256').update('').digest('hex') })
})

t.test('first start: the identity is recorded, nothing discarded; the same PBX again keeps everything', async (t) => {
  const s = stored(t)
  const lines: string[] = []
  t.equal(await check(s, {}, lines), 'first')
  t.same(await s.origin.load(), PBX_A)
  t.equal(await check(s, {}, lines), 'same')
  t.same(await counts(s), ALL)
  t.same(lines, [], 'nothing to say')
})

t.test('another PBX: calls in progress, unseen calls and pending recordings discarded, the outbox kept, one log line', async (t) => {
  const s = stored(t)
  await check(s, {}, [])
  const lines: string[] = []
  const b = pbxIdentityOf({ FQDN: 'b.example.com', LicenseKey: 'BBBB-2222' })
  t.equal(await check(s, { identity: b }, lines), 'different')
  t.same(await counts(s), { calls: 0, unseen: 0, highest: null, waitingLegs: 0, announcedLegs: 1, pendingDeliveries: 1 }, 'undelivered webhooks still go out')
  t.equal(lines.length, 1)
  t.match(lines[0], /^warn the state in DATA_DIR came from another PBX \(the PBX was a\.example\.com and is now b\.example\.com\): discarded 1 calls in progress, 1 unseen calls and 1 pending recordings; undelivered webhooks are kept/)
  t.same(await s.origin.load(), b, 'the new PBX is recorded')
  t.equal(await check(s, { identity: b }, []), 'same')
})

t.test('the same PBX whose call counter began again is another PBX for the state', async (t) => {
  const s = stored(t)
  await check(s, {}, [])
  const asked: unknown[] = []
  const lines: string[] = []
  t.equal(await check(s, { counterWentBack: async (last) => { asked.push(last); return true } }, lines), 'different')
  t.same(asked, [{ callid: 1020, at: 5000 }], 'asked about the last call the state saw')
  t.match(lines[0], /call counter of a\.example\.com began again/)
  t.equal((await counts(s)).calls, 0)
})

t.test('a PBX that cannot be read within the time limit: state kept, one log line', async (t) => {
  const s = stored(t)
  await check(s, {}, [])
  const lines: string[] = []
  const started = Date.now()
  t.equal(await check(s, { readIdentity: async () => await new Promise<never>(() => {}), timeoutMs: 100 }, lines), 'unknown')
  t.ok(Date.now() - started < 2000, 'gave up at the time limit')
  t.equal(await check(s, { readIdentity: async () => { throw new Error('connect ECONNREFUSED') } }, lines), 'unknown')
  t.same(await counts(s), ALL)
  t.equal(lines.length, 2)
  t.match(lines[0], /^warn could not read which PBX this is at start \(no answer within 0\.1 s\); the state in DATA_DIR is kept/)
  t.match(lines[1], /ECONNREFUSED/)
})

t.test('against the simulator: SystemStatus gives the identity, the call log shows a counter that began again', async (t) => {
  const sim = await startSim(t)
  const { xapi } = clientsFor(t, sim.url)
  const id = await readPbxIdentity(xapi)
  t.equal(id.fqdn, PBX.definition.system?.fqdn ?? 'sim.3cx.local', 'the definition\'s FQDN (sim.3cx.local on the default PBX)')
  t.equal(id.licenseSha256, createHash('sha256').update(sim.ctx.directory.system.LicenseKey).digest('hex'))
  sim.ctx.directory.system.LicenseKey = 'SIM0-0000-0000-0002'
  t.not((await readPbxIdentity(xapi)).licenseSha256, id.licenseSha256, 'another license, another identity')

  const callid = await startCall(sim, { ...DIRECT_CALL, ringMs: 50, talkMs: 100 })
  await until(() => sim.ctx.engine.activeCalls() === 0, 10_000, 'the call to end')
  const now = Date.now()
  const longAgo = now - 10 * 60_000
  t.equal(await callLogCounterWentBack(xapi, { callid: callid + 5, at: longAgo }, now), true, 'a call logged after a higher id was seen')
  t.equal(await callLogCounterWentBack(xapi, { callid: callid - 1, at: longAgo }, now), false, 'ids grew: the same count')
  t.equal(await callLogCounterWentBack(xapi, { callid: callid + 5, at: now - 1000 }, now), false, 'too recent to tell from the clock')
  t.match(counterWentBackRequest({ callid: 7, at: 0 }, 120_000).query, { filter: 'CallId le 7', top: 1 })
})

t.test('the gateway on another PBX: nothing of the old state is resumed, the outbox still delivers, one log line', async (t) => {
  const { Writable } = await import('node:stream')
  const { loadConfig } = await import('../src/config.js')
  const { startGateway } = await import('../src/server.js')
  const sim = await startSim(t)
  const lines: string[] = []
  const logTo = (): InstanceType<typeof Writable> => new Writable({ write (c: Buffer, _e, cb) { lines.push(c.toString()); cb() } })
  const env = {
    ...pbxEnv(sim.url), GATEWAY_KEYS: 'origin-test-key-0123456789', PORT: '0',
    DATA_DIR: t.testdir({}), WEBHOOK_URLS: 'http://127.0.0.1:9/hook', CALL_END_GRACE_MS: '200', RECORDINGS_SOURCE: 'off'
  }
  const first = await startGateway(loadConfig(env), { logStream: logTo() })
  await first.services.pbx.callControl.ready()
  await startCall(sim, { ...DIRECT_CALL, ringMs: 50, talkMs: 60_000 })
  const liveRows = (): number => first.services.db.prepare('SELECT COUNT(*) FROM live_calls').pluck().get() as number
  await until(() => liveRows() > 0, 10_000, 'the call in progress to be on disk')
  const pending = (gw: typeof first): number => gw.services.db.prepare("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'").pluck().get() as number
  await until(() => pending(first) > 0, 10_000, 'an undelivered webhook')
  const waiting = pending(first)
  await first.close()

  sim.ctx.directory.system.LicenseKey = 'SIM0-0000-0000-0999' // the same address, another PBX
  lines.length = 0
  const second = await startGateway(loadConfig(env), { logStream: logTo() })
  t.teardown(async () => { await second.close() })
  t.equal(second.services.calls.restored, 0, 'the old PBX\'s call is not resumed')
  t.ok(pending(second) >= waiting, 'the undelivered webhooks are still in the outbox')
  const said = lines.filter((l) => l.includes('came from another PBX'))
  t.equal(said.length, 1, 'one log line')
  t.match(said[0], /another license key\): discarded 1 calls in progress/)
  t.notMatch(lines.join(''), /SIM0-0000-0000-0999/, 'the license key is never logged')
})
