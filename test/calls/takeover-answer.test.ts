// An outbound call answered and hung up right after a take-over (test/replicas/failover.test.ts
// failed once this way): the new stream holder resumes the call from the stored state (106
// dialing), its first snapshot still shows it dialing, then the answer is announced and the call
// hangs up before 106's change is read (the read finds the leg gone: an uncertain remove) while the
// trunk's changes are read. The remote end answered, so 106's unseen Connected was an answer: the
// call must end from the PBX's record (answered), never as an unanswered outgoing call. The change
// feed and the model run together on fake time, the reads held and released by the test.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CallModel } from '../../src/calls/call-model.js'
import { SqliteCallStateStore } from '../../src/store/sqlite-call-state.js'
import type { CallEvent, WebhookPayload } from '../../src/calls/call-events.js'
import type { PbxCallRecord } from '../../src/calls/pbx-call-record.js'
import type { CallParticipant } from '../../src/pbx/callcontrol-types.js'
import { openDatabase } from '../../src/store/database.js'
import { settle } from '../fake-clock.js'
import { started } from '../pbx/feed-harness.js'
import { gate, participant } from '../pbx/fake-callcontrol.js'

const EXT = '+15559870000'
const CALLID = 77
const brief = (e: CallEvent): string => {
  const p = e.payload as WebhookPayload & Record<string, unknown>
  return [p.event, p.user, p.trtype, p.finishtype, p.duration === undefined ? undefined : `duration=${String(p.duration)}`].filter((x) => x !== undefined).join(' ')
}
const legsOf = (status: CallParticipant['status']): [CallParticipant, CallParticipant] => [
  participant('106', 1, { status, callid: CALLID, party_dn: '10000', party_dn_type: 'Wexternalline', party_caller_id: EXT }),
  participant('10000', 2, { status, callid: CALLID, party_dn: '106', party_dn_type: 'Wextension', party_caller_id: EXT })
]

t.test('outbound call answered and hung up right after a take-over, 106\'s answer never read: ended answered from the call log', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-takeover-'))
  const db = openDatabase(dir)
  t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })
  const h = await started(t, false)
  const setLegs = (status: CallParticipant['status'] | null): void => {
    const [origin, trunk] = status === null ? [] : legsOf(status)
    h.reader.dns = [
      { dn: '106', type: 'Wextension', devices: [], participants: origin === undefined ? [] : [origin] },
      { dn: '10000', type: 'Wexternalline', devices: [], participants: trunk === undefined ? [] : [trunk] }
    ]
  }
  const T = h.clock.now()
  const record: PbxCallRecord = {
    callid: CALLID,
    origin: { direction: 'outbound', customerDn: '10000', customerNumber: EXT, customerName: '', firstDestination: '10000', firstDestinationType: 'Wexternalline', fromDn: '106', startedAt: T },
    dns: ['106', '10000'],
    conversations: [{ user: '106', answeredAt: T + 826, endedAt: T + 1056, talkSeconds: 0, trtype: 'NotDef' }],
    waitedIn: null,
    endedAt: T + 1056
  }
  const lookups: number[] = []
  const gateway = async (): Promise<{ m: CallModel, events: CallEvent[] }> => {
    const events: CallEvent[] = []
    const m = new CallModel({
      timeZone: 'UTC',
      graceMs: 300,
      internalCalls: true,
      clock: h.clock,
      stateStore: new SqliteCallStateStore(db),
      stateFlushMs: 5,
      callRecords: async (q) => { lookups.push(q.callid); return record },
      callTimes: async () => new Map(),
      oldestPendingChange: () => h.feed.oldestPendingUpsert(),
      blindSince: () => h.feed.blindSince(),
      onEvent: (e) => { events.push(e) }
    })
    await m.restore()
    return { m, events }
  }

  // The old holder saw 106 dial out; its state is stored, then it is SIGKILLed (no stop()).
  const old = await gateway()
  for (const p of legsOf('Dialing')) old.m.apply({ kind: 'upsert', participant: p, dnType: p.dn === '106' ? 'Wextension' : 'Wexternalline', at: h.clock.now() })
  await h.clock.advance(20)
  t.same(old.events, [], 'nothing announced for a dialing outbound call')

  // The new holder resumes it; its first snapshot still shows the call dialing.
  const next = await gateway()
  t.teardown(() => { next.m.stop() })
  t.equal(next.m.restored, 1)
  h.feed.onChange((c) => { next.m.apply(c) })
  await h.clock.advance(600)
  setLegs('Dialing')
  h.feed.opened()
  await h.feed.ready()

  // Answered: the trunk's change is read, 106's read is slow.
  const slow = gate()
  h.reader.participantGate.set('106/1', slow.promise)
  setLegs('Connected')
  await h.send(0, '10000', 2)
  await h.send(0, '106', 1)
  t.equal(next.events.length, 0, '106\'s answer not read yet')
  // Hung up 230 ms later: 106's read finds the leg gone, then the removes arrive.
  await h.clock.advance(230)
  setLegs(null)
  slow.open()
  await settle()
  await h.send(1, '10000', 2)
  await h.send(1, '106', 1)
  t.match(h.changes.filter((c) => c.kind === 'remove'), [{ dn: '106', uncertain: true }, { dn: '10000' }], '106\'s remove is uncertain, the trunk\'s is not (and comes last)')

  await h.clock.advance(5000)
  t.same(lookups, [CALLID], 'the end is looked up in the call log')
  t.same(next.events.map(brief), ['hangupoutgoing 106 NotDef', 'outgoing 106 Ok duration=0'], 'started and ended answered, never an unanswered outgoing call')
  t.equal(next.m.size(), 0)
})
