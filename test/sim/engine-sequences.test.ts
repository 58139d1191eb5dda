// Every call path of the engine, as a Call Control WebSocket client sees it: the exact participant
// sequences of docs/DEVELOPING.md, the WebSocket carrying the same events as the sent-event log,
// each upserted entity fetchable until its remove (404 afterwards), and the ground-truth records.
import t, { type Test } from 'tap'
import type { SimCallRecord } from '../../src/sim/sim-types.js'
import { CALLER, notation, startCcSim } from './callcontrol-harness.js'

const R = 'orig=ROUTER/Wroutepoint'
const OBO800 = 'obo=800/Wqueue'
const OBO801 = 'obo=801/Wqueue'
const OUT = '+15559870000'
const MARIA = '"Maria Garcia"'
const TOM = '"Tom Smith"'
const JOHN = '"John Brown"'
const quick = { ringMs: 200, talkMs: 250 }

const queueStart = [
  '+10000#p1 Ringing 800/Wqueue CALLER',
  `+800#p2 Connected 10000/Wexternalline CALLER ${R}`,
  '+10000#p1 Connected 800/Wqueue CALLER',
  `+101#p3 Ringing 10000/Wexternalline CALLER ${OBO800}`,
  `+102#p4 Ringing 10000/Wexternalline CALLER ${OBO800}`,
  `+103#p5 Ringing 10000/Wexternalline CALLER ${OBO800}`
]
const ivrStart = [
  '+10000#p1 Ringing 900/Wivr CALLER',
  `+900#p2 Connected 10000/Wexternalline CALLER ${R}`,
  '+10000#p1 Connected 900/Wivr CALLER',
  '-900#p2',
  `+801#p3 Connected 10000/Wexternalline CALLER ${R}`,
  '+10000#p1 Connected 801/Wqueue CALLER',
  `+104#p4 Ringing 10000/Wexternalline CALLER ${OBO801}`
]
const direct102 = [
  '+10000#p1 Ringing 102/Wextension CALLER',
  `+102#p2 Ringing 10000/Wexternalline CALLER ${R}`,
  `+102#p2 Connected 10000/Wexternalline CALLER ${R}`,
  '+10000#p1 Connected 102/Wextension CALLER'
]

interface Case {
  name: string
  script: Record<string, unknown>
  expected: string[]
  check?: (t: Test, r: SimCallRecord) => void
}

const cases: Case[] = [
  {
    name: 'inbound to a ring-all queue, 101 answers',
    script: { from: CALLER, to: '+15550101', answer: '101', ...quick },
    expected: [...queueStart,
      `+101#p3 Connected 10000/Wexternalline CALLER ${OBO800}`, '-102#p4', '-103#p5', '-800#p2',
      '+10000#p1 Connected 101/Wextension CALLER', '-101#p3', '-10000#p1'],
    check: (t, r) => {
      t.match(r, { kind: 'inbound', did: '+15550101', ruleName: 'Sales line', answeredBy: '101', status: 'ended' })
      t.match(r.queue, { dn: '800', abandoned: false, answeredBy: '101', agentsRung: ['101', '102', '103'] })
      t.ok(r.queue !== null && r.queue.waitMs >= 150, 'queue wait measured')
      t.same(r.segments.map((s) => `${s.src.dn}>${s.dst.dn}:${s.action}:${s.answered}`),
        ['10000>102:missed:false', '10000>103:missed:false', '10000>800:queue:false', '10000>101:answered:true'])
    }
  },
  {
    name: 'inbound to a queue, nobody answers, the caller gives up',
    script: { from: CALLER, to: '+15550101', answer: null, ringMs: 300 },
    expected: [...queueStart, '-101#p3', '-102#p4', '-103#p5', '-800#p2', '-10000#p1'],
    check: (t, r) => {
      t.match(r, { answeredAt: null, answeredBy: null })
      t.match(r.queue, { dn: '800', abandoned: true, answeredBy: null })
      t.ok(r.segments.some((s) => s.dst.dn === '800' && s.action === 'abandoned'))
    }
  },
  {
    name: 'IVR digit 2 to the hunt queue 801, 105 answers after 104',
    script: { from: CALLER, to: '+15550100', menu: '2', answer: '105', ...quick },
    expected: [...ivrStart, '-104#p4',
      `+105#p5 Ringing 10000/Wexternalline CALLER ${OBO801}`, `+105#p5 Connected 10000/Wexternalline CALLER ${OBO801}`,
      '-801#p3', '+10000#p1 Connected 105/Wextension CALLER', '-105#p5', '-10000#p1'],
    check: (t, r) => { t.match(r.queue, { dn: '801', answeredBy: '105', agentsRung: ['104', '105'] }) }
  },
  {
    name: 'queue MasterTimeout ends the wait before the caller gives up',
    script: { from: CALLER, to: '+15550100', menu: '2', answer: null, ringMs: 5000 },
    expected: [...ivrStart, '-104#p4', '-801#p3', '-10000#p1'],
    check: (t, r) => {
      t.ok(r.segments.some((s) => s.dst.dn === '801' && s.action === 'timeout'), 'queue segment says timeout')
      t.ok(r.endedAt !== null && r.endedAt.getTime() - r.startedAt.getTime() < 3000, 'ended at the 1 s MasterTimeout')
    }
  },
  {
    name: 'queue overflow from 800 to 801',
    script: { from: CALLER, to: '+15550101', overflow: '801', answer: '104', ...quick },
    expected: [...queueStart, '-101#p3', '-102#p4', '-103#p5', '-800#p2',
      `+801#p6 Connected 10000/Wexternalline CALLER ${R}`, '+10000#p1 Connected 801/Wqueue CALLER',
      `+104#p7 Ringing 10000/Wexternalline CALLER ${OBO801}`, `+104#p7 Connected 10000/Wexternalline CALLER ${OBO801}`,
      '-801#p6', '+10000#p1 Connected 104/Wextension CALLER', '-104#p7', '-10000#p1'],
    check: (t, r) => {
      t.ok(r.segments.some((s) => s.dst.dn === '800' && s.action === 'overflow'))
      t.match(r.queue, { dn: '801', answeredBy: '104' })
    }
  },
  {
    name: 'inbound direct to extension 102',
    script: { from: CALLER, to: '+15550102', answer: '102', ...quick },
    expected: [...direct102, '-102#p2', '-10000#p1']
  },
  {
    name: 'inbound to ring group 700, 101 answers',
    script: { from: CALLER, to: '+15550199', answer: '101', ...quick },
    expected: [
      '+10000#p1 Ringing 700/Wringgroup CALLER',
      `+700#p2 Ringing 10000/Wexternalline CALLER ${R}`,
      '+100#p3 Ringing 10000/Wexternalline CALLER obo=700/Wringgroup',
      '+101#p4 Ringing 10000/Wexternalline CALLER obo=700/Wringgroup',
      '+101#p4 Connected 10000/Wexternalline CALLER obo=700/Wringgroup',
      '-100#p3', '-700#p2', '+10000#p1 Connected 101/Wextension CALLER', '-101#p4', '-10000#p1']
  },
  {
    name: 'outbound answered by the far end',
    script: { from: '101', to: OUT, answer: 'remote', ...quick },
    expected: [`+101#p1 Dialing 10000/Wexternalline ${OUT}`, `+10000#p2 Dialing 101/Wextension ${OUT}`,
      `+10000#p2 Connected 101/Wextension ${OUT}`, `+101#p1 Connected 10000/Wexternalline ${OUT}`, '-10000#p2', '-101#p1'],
    check: (t, r) => { t.match(r, { kind: 'outbound', from: '101', to: OUT, answeredBy: null }) }
  },
  {
    name: 'outbound not answered',
    script: { from: '101', to: OUT, answer: null, ringMs: 200 },
    expected: [`+101#p1 Dialing 10000/Wexternalline ${OUT}`, `+10000#p2 Dialing 101/Wextension ${OUT}`, '-10000#p2', '-101#p1']
  },
  {
    name: 'internal 101 to 102',
    script: { from: '101', to: '102', answer: '102', ...quick },
    expected: [`+101#p1 Dialing 102/Wextension 102 ${MARIA}`, `+102#p2 Ringing 101/Wextension 101 ${TOM}`,
      `+102#p2 Connected 101/Wextension 101 ${TOM}`, `+101#p1 Connected 102/Wextension 102 ${MARIA}`, '-102#p2', '-101#p1'],
    check: (t, r) => { t.match(r, { kind: 'internal', answeredBy: '102' }) }
  },
  {
    name: 'blind transfer 102 to 103, 103 answers',
    script: { from: CALLER, to: '+15550102', answer: '102', transfer: { kind: 'blind', to: '103', afterMs: 150, answer: true }, ...quick },
    expected: [...direct102, '-102#p2', '+103#p3 Ringing 10000/Wexternalline CALLER ref=102/Wextension',
      '+10000#p1 Connected 103/Wextension CALLER', '+103#p3 Connected 10000/Wexternalline CALLER ref=102/Wextension',
      '-103#p3', '-10000#p1'],
    check: (t, r) => {
      t.same(r.transfers, [{ kind: 'blind', from: '102', to: '103', answered: true }])
      t.equal(r.answeredBy, '103')
    }
  },
  {
    name: 'blind transfer 102 to 103, no answer: back to 102',
    script: { from: CALLER, to: '+15550102', answer: '102', transfer: { kind: 'blind', to: '103', afterMs: 150, answer: false }, ...quick },
    expected: [...direct102, '-102#p2', '+103#p3 Ringing 10000/Wexternalline CALLER ref=102/Wextension',
      '+10000#p1 Connected 103/Wextension CALLER', '-103#p3', '+102#p4 Connected 10000/Wexternalline CALLER',
      '+10000#p1 Connected 102/Wextension CALLER', '-102#p4', '-10000#p1'],
    check: (t, r) => { t.same(r.transfers, [{ kind: 'blind', from: '102', to: '103', answered: false }]) }
  },
  {
    name: 'attended transfer 102 to 103, completed',
    script: { from: CALLER, to: '+15550102', answer: '102', transfer: { kind: 'attended', to: '103', afterMs: 150, answer: true }, ...quick },
    expected: [...direct102, `+102#p3 Dialing 103/Wextension 103 ${JOHN}`, `+103#p4 Ringing 102/Wextension 102 ${MARIA}`,
      `+103#p4 Connected 102/Wextension 102 ${MARIA}`, `+102#p3 Connected 103/Wextension 103 ${JOHN}`,
      '-102#p3', '-102#p2', '+103#p4 Connected 10000/Wexternalline CALLER', '+10000#p1 Connected 103/Wextension CALLER',
      '-103#p4', '-10000#p1'],
    check: (t, r) => {
      t.same(r.transfers, [{ kind: 'attended', from: '102', to: '103', answered: true }])
      t.same(r.segments.map((s) => `${s.src.dn}>${s.dst.dn}:${s.action}`), ['10000>102:transferred', '102>103:consult', '10000>103:answered'])
    }
  },
  {
    name: 'attended transfer 102 to 103, no answer',
    script: { from: CALLER, to: '+15550102', answer: '102', transfer: { kind: 'attended', to: '103', afterMs: 150, answer: false }, ...quick },
    expected: [...direct102, `+102#p3 Dialing 103/Wextension 103 ${JOHN}`, `+103#p4 Ringing 102/Wextension 102 ${MARIA}`,
      '-103#p4', '-102#p3', '-102#p2', '-10000#p1']
  }
]

t.test('every call path produces the documented participant sequence', async (t) => {
  const cc = await startCcSim(t)
  const dir = cc.sim.ctx.directory
  dir.queues.find((q) => q.Number === '801')!.MasterTimeout = 1
  const rg = structuredClone(dir.inboundRules[0])
  Object.assign(rg, { Id: 69, RuleName: 'Reception line', Data: '+15550199' })
  rg.OfficeHoursDestination = { To: 'RingGroup', Number: '700', Name: 'Reception', External: '' }
  dir.inboundRules.push(rg)

  const watcher = await cc.watch()
  const callids = await Promise.all(cases.map(async (c) => await cc.call(c.script)))
  await cc.waitEnded(callids)
  await watcher.settled()

  const log = (await cc.get('/_sim/events')).body.events as Array<{ sequence: number, entity: string, event_type: number, duplicate: boolean, participant: { callid: number } }>
  t.same(watcher.observed.map((o) => o.message.sequence), log.map((e) => e.sequence), 'the WebSocket carried every logged event, in order')
  t.same(watcher.observed.map((o) => o.message.event.entity), log.map((e) => e.entity))
  t.ok(watcher.observed.every((o) => o.message.event.attached_data === null && [0, 1].includes(o.message.event.event_type)))
  t.ok(log.some((e) => e.duplicate), 'some upserts are sent twice (seeded quirk)')

  // A fetched upsert is the live entity, or 404 only when a remove for it followed.
  const removedAt = new Map<string, number>()
  watcher.observed.forEach((o, i) => { if (o.message.event.event_type === 1) removedAt.set(o.message.event.entity, i) })
  t.ok(watcher.observed.some((o) => o.message.event.event_type === 0), 'there are upserts to check')
  watcher.observed.forEach((o, i) => {
    if (o.message.event.event_type !== 0) return
    if (o.fetched === 404) t.ok((removedAt.get(o.message.event.entity) ?? -1) > i, `404 only after a remove: ${o.message.event.entity}`)
    else t.equal(`/callcontrol/${o.fetched?.dn}/participants/${o.fetched?.id}`, o.message.event.entity)
  })
  const gone = await cc.get(log[0].entity)
  t.equal(gone.status, 404, 'GET after remove answers 404')

  const records = cc.sim.ctx.engine.records()
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, async (t) => {
      t.same(notation(await cc.eventsOf(callids[i])), c.expected)
      const record = records.find((r) => r.callid === callids[i])
      t.equal(record?.status, 'ended')
      if (record !== undefined) c.check?.(t, record)
    })
  }
  t.equal(cc.sim.ctx.engine.participants().length, 0, 'no participant left')
})
