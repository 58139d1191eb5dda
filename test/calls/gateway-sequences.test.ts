// The remaining canonical sequences of webhooks.md §3 and the other paths the issue names, driven end to
// end through the whole gateway (simulator script → Call Control → call model → outbox → receiver):
// B (queue missed), D (attended transfer), F (outbound not answered), G (transfer target does not
// answer), IVR → queue, ring group missed, queue overflow. A, C, E and H: end-to-end.test.ts.
import t from 'tap'
import { Writable } from 'node:stream'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { startReceiver } from '../webhooks/receiver.js'
import { until } from '../pbx/pbx-fixture.js'

t.test('canonical and other call paths, exact events in order', async (t) => {
  const sim = await createSimulator()
  t.teardown(() => sim.close())
  const rx = await startReceiver()
  t.teardown(() => rx.close())
  const gw = await startGateway(loadConfig({
    PBX_URL: sim.url, PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'sim-secret', GATEWAY_KEYS: 'sequences-test-key-0123456789', PORT: '0',
    DATA_DIR: t.testdir({}), WEBHOOK_URLS: rx.url, CALL_END_GRACE_MS: '300', RECORDINGS_SOURCE: 'off'
  }), { logStream: new Writable({ write (_c, _e, cb) { cb() } }) })
  t.teardown(() => gw.close())
  await gw.services.pbx.callControl.ready()

  const start = async (script: object): Promise<number> => {
    const res = await fetch(`${sim.url}/_sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) })
    t.equal(res.status, 201, JSON.stringify(script))
    return ((await res.json()) as { callid: number }).callid
  }
  const calls = {
    B: await start({ from: '+15557654321', to: '+15550101', answer: null, ringMs: 600 }),
    D: await start({ from: '+15557654322', to: '+15550102', answer: '102', ringMs: 100, talkMs: 1500, transfer: { kind: 'attended', to: '103', afterMs: 300, answer: true } }),
    F: await start({ from: '101', to: '+15559870000', answer: null, ringMs: 300 }),
    G: await start({ from: '+15557654323', to: '+15550102', answer: '102', ringMs: 100, talkMs: 1500, transfer: { kind: 'blind', to: '103', afterMs: 300, answer: false } }),
    IVR: await start({ from: '+15557654324', to: '+15550100', menu: '2', answer: '104', ringMs: 200, talkMs: 500 }),
    RG: await start({ from: '103', to: '700', answer: null, ringMs: 400 }),
    OVF: await start({ from: '+15557654325', to: '+15550101', overflow: '801', answer: '104', ringMs: 300, talkMs: 400 })
  }
  type Payload = Record<string, string | number>
  const eventsOf = (callid: number): Payload[] => rx.received.map((r) => JSON.parse(r.body) as Payload).filter((p) => String(p.chid).endsWith(`_${callid}`))
  const line = (p: Payload): string => [p.event, p.user, p.trtype, p.finishtype, p.transfer === undefined ? undefined : `transfer=${p.transfer}`, `-${String(p.id).split('-')[1]}`]
    .filter((x) => x !== undefined).join(' ')
  const endedCount: Record<keyof typeof calls, number> = { B: 1, D: 2, F: 1, G: 2, IVR: 1, RG: 1, OVF: 1 }
  const allEnded = (): boolean => Object.entries(calls).every(([k, id]) => eventsOf(id).filter((p) => p.event === 'incoming' || p.event === 'outgoing').length >= endedCount[k as keyof typeof calls])
  // On a timeout the checks below still run and show which events are missing.
  await until(allEnded, 20_000, 'every call\'s end events').catch((err: Error) => { t.fail(err.message) })
  // Expected sequences: a string is one event in that place; an array is a group of events that
  // may arrive in any order among themselves (agents ringing at once).
  const matches = (callid: number, expected: Array<string | string[]>): { actual: string[], expected: string[] } => {
    const actual = eventsOf(callid).map(line)
    const normalized: string[] = []
    let i = 0
    for (const item of expected) {
      if (typeof item === 'string') { normalized.push(actual[i] === item ? item : `${item} (got ${actual[i]})`); i++; continue }
      const got = actual.slice(i, i + item.length).sort()
      normalized.push(...(JSON.stringify(got) === JSON.stringify([...item].sort()) ? [...item].sort() : got))
      i += item.length
    }
    return { actual: [...normalized, ...actual.slice(i)], expected: expected.flatMap((x) => (typeof x === 'string' ? [x] : [...x].sort())) }
  }
  const check = (callid: number, expected: Array<string | string[]>, what: string): void => {
    const m = matches(callid, expected)
    t.same(m.actual, m.expected, what)
  }

  check(calls.B, ['ringing 800 -0', ['ringing 101 -0', 'ringing 102 -0', 'ringing 103 -0'], 'incoming 800 Missed transfer=false -0'], 'B: queue missed')
  t.match(eventsOf(calls.B).at(-1), { did: 'Sales line', duration: 0, title: /Sales line: missed call in queue 800 from \+15557654321/ })
  check(calls.D, [
    'ringing 102 -0', 'hangupincoming 102 NotDef -1', 'ringing 103 -2',
    'incoming 102 Ok transfer=true -1', 'hangupincoming 103 Accomp -2', 'incoming 103 Ok transfer=false -2'
  ], 'D: attended transfer (103 rings for the consultation before 102 leaves)')
  check(calls.F, ['outgoing 101 Missed transfer=false -0'], 'F: outbound not answered')
  t.match(eventsOf(calls.F)[0], { callerid: '+15559870000', did: '' })
  check(calls.G, [
    'ringing 102 -0', 'hangupincoming 102 NotDef -1', 'incoming 102 Ok transfer=true -1', 'ringing 103 -2', 'incoming 102 Ok transfer=false -1'
  ], 'G: the transfer target does not answer, the call returns to 102 as link 1')
  check(calls.IVR, ['ringing 900 -0', 'ringing 801 -0', 'ringing 104 -0', 'hangupincoming 104 NotDef -1', 'incoming 104 Ok transfer=false -1'], 'IVR → queue 801')
  t.match(eventsOf(calls.IVR)[0], { usertype: 'other', did: 'Main line' })
  check(calls.RG, ['ringing 700 -0', ['ringing 100 -0', 'ringing 101 -0'], 'incoming 700 Missed transfer=false -0'], 'ring group missed')
  t.match(eventsOf(calls.RG)[0], { callerid: '103', did: '' })
  check(calls.OVF, [
    'ringing 800 -0', ['ringing 101 -0', 'ringing 102 -0', 'ringing 103 -0'], 'ringing 801 -0', 'ringing 104 -0',
    'hangupincoming 104 NotDef -1', 'incoming 104 Ok transfer=false -1'
  ], 'overflow from queue 800 to 801')
})
