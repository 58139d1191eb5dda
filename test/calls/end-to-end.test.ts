// Simulator script → Call Control client → call model → outbox → delivery → a local receiver:
// the canonical sequences arrive over real sockets, in order per call.
import t from 'tap'
import { startSim, clientsFor, until } from '../pbx/pbx-fixture.js'
import { CallModel } from '../../src/calls/call-model.js'
import { DidMapLoader } from '../../src/calls/did-map.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import { startReceiver } from '../webhooks/receiver.js'
import { FAST, target, tempDir } from '../webhooks/helpers.js'
import type { Simulator } from '../../src/sim/simulator.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [QUEUE, AGENT, DIRECT, TARGET, CALLING, CALLED, OUTBOUND] = ['800', '101', '102', '103', '105', '106', '104'].map((n) => PBX.n(n))
const QUEUE_LINE = PBX.didTo(QUEUE)
const DIRECT_LINE = PBX.n('+15550102')
// A hunt queue rings its first agent (the one that answers here) before any other; a ring-all queue all of them.
const RUNG = PBX.firstRung(QUEUE)

async function startCall (sim: Simulator, script: object): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) })
  if (res.status !== 201) throw new Error(`/_sim/calls answered ${res.status}: ${await res.text()}`)
  return ((await res.json()) as { callid: number }).callid
}

t.test('canonical sequences end to end', async (t) => {
  const sim = await startSim(t)
  const { callControl, xapi } = clientsFor(t, sim.url)
  const rx = await startReceiver()
  t.teardown(rx.close)
  const db = openDatabase(tempDir(t))
  const outbox = new SqliteOutbox(db, { targets: [target('crm', rx.url)] })
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  const dids = new DidMapLoader({ xapi })
  await dids.refresh()
  const model = new CallModel({
    timeZone: 'UTC',
    graceMs: 300,
    internalCalls: true,
    didLookup: (q) => dids.lookup(q),
    // As services.ts wires it: a call's end waits for changes still being fetched (a slow fetch of the
    // transfer target must not end the transferring leg as final).
    oldestPendingChange: () => callControl.oldestPendingUpsert(),
    blindSince: () => callControl.blindSince(),
    onEvent: (e) => outbox.enqueue(e)
  })
  t.teardown(async () => { model.stop(); await delivery.stop(500); db.close() })
  delivery.start()
  callControl.onChange((c) => { model.apply(c) })
  callControl.start()
  await callControl.ready()
  // A slow PBX (every fetch 250 ms), as on a loaded machine: the sequences must not depend on speed.
  const slow = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 250 }) })
  t.equal(slow.status, 200)

  // Every state lasts well beyond a fetch under load (the model fetches each upserted participant;
  // a ring shorter than that fetch is never seen ringing, and the sequences below would not hold).
  const a = await startCall(sim, { from: '+15557654321', to: QUEUE_LINE.number, answer: AGENT, ringMs: 2000, talkMs: 1500, hangup: 'caller' })
  const c = await startCall(sim, { from: '+15557654322', to: DIRECT_LINE, answer: DIRECT, ringMs: 1500, talkMs: 1500, transfer: { kind: 'blind', to: TARGET, afterMs: 1500, answer: true } })
  const e = await startCall(sim, { from: OUTBOUND, to: '+15559870000', answer: 'remote', ringMs: 1500, talkMs: 1500 })
  const h = await startCall(sim, { from: CALLING, to: CALLED, answer: CALLED, ringMs: 1500, talkMs: 1500 })
  await until(() => model.isTalking(AGENT) && model.isBusy('+15557654321') === false, 10_000, `${AGENT} talking`)
  const live = model.list().find((call) => call.callid === a)
  t.match(live, { direction: 'Inbound', did: QUEUE_LINE.name, state: 'Talking' })

  const eventsOf = (callid: number): string[] => rx.received
    .map((r) => JSON.parse(r.body) as Record<string, string>)
    .filter((p) => p.chid.endsWith(`_${callid}`))
    .map((p) => `${p.event} ${p.user}${p.trtype !== undefined ? ' ' + p.trtype : ''}${p.transfer !== undefined ? ' transfer=' + p.transfer : ''} -${p.id.split('-')[1]}`)
  const ended = (callid: number, n: number): boolean => eventsOf(callid).filter((x) => /^(incoming|outgoing) /.test(x)).length >= n
  await until(() => ended(a, 1) && ended(c, 2) && ended(e, 1) && ended(h, 1), 30_000, 'all calls ended')

  const ringA = eventsOf(a)
  t.same(ringA.slice(0, 1), [`ringing ${QUEUE} -0`])
  t.same([...ringA.slice(1, 1 + RUNG.length)].sort(), RUNG.map((a) => `ringing ${a} -0`).sort())
  t.same(ringA.slice(1 + RUNG.length), [`hangupincoming ${AGENT} NotDef -1`, `incoming ${AGENT} transfer=false -1`])
  t.same(eventsOf(c), [
    `ringing ${DIRECT} -0`, `hangupincoming ${DIRECT} NotDef -1`, `incoming ${DIRECT} transfer=true -1`,
    `ringing ${TARGET} -2`, `hangupincoming ${TARGET} Blind -2`, `incoming ${TARGET} transfer=false -2`
  ])
  t.same(eventsOf(e), [`hangupoutgoing ${OUTBOUND} NotDef -1`, `outgoing ${OUTBOUND} transfer=false -1`])
  t.same(eventsOf(h), [`ringing ${CALLED} -0`, `hangupincoming ${CALLED} NotDef -1`, `incoming ${CALLED} transfer=false -1`])
  const first = JSON.parse(rx.received.find((r) => r.body.includes(`_${a}-0`))?.body ?? '{}') as Record<string, string>
  t.match(first, { did: QUEUE_LINE.name, callerid: '+15557654321', usertype: 'queue' })
  await until(() => model.size() === 0, 3000, 'model empty')
  t.notOk(model.isBusy(AGENT))
  t.ok(model.endedLeg(`${first.chid}-1`), 'ended payload kept for the recordings pipeline')
})
