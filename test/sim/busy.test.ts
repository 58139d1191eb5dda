// Busy extensions for scripted calls (POST /_sim/calls with "busy": true): an extension already in a
// call, without call waiting, is not rung; the call follows its profile's busy forwarding once, or
// ends "busy". Without the flag (and in traffic, unless asked) the script plays as if it were free.
import t from 'tap'
import { CALLER, notation, sleep, startCcSim, type CcSim } from './callcontrol-harness.js'
import { SimScriptError } from '../../src/sim/engine/call-engine.js'
import type { SimForwardingProfile } from '../../src/sim/sim-types.js'

/** The DID whose inbound rule rings extension 102. */
const DID_102 = '+15550102'

async function talking (cc: CcSim, callid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await cc.get(`/_sim/calls/${callid}`)).body.status === 'talking') return
    await sleep(20)
  }
  throw new Error(`call ${callid} never talked`)
}

/** Puts 102 in a long call (answered) and returns that call's id. */
async function busy102 (cc: CcSim): Promise<number> {
  const callid = await cc.call({ from: '+15557000001', to: DID_102, answer: '102', ringMs: 20, talkMs: 20_000 })
  await talking(cc, callid)
  return callid
}

function profileOf (cc: CcSim, dn: string): SimForwardingProfile {
  const user = cc.sim.ctx.directory.users.find((u) => u.Number === dn)
  const profile = user?.ForwardingProfiles.find((p) => p.Name === user.CurrentProfileName)
  if (profile === undefined) throw new Error(`seed lost ${dn}'s profile`)
  return profile
}

function segmentsOf (cc: CcSim, callid: number): string[] {
  const record = cc.sim.ctx.engine.records().find((r) => r.callid === callid)
  return (record?.segments ?? []).map((s) => `${s.src.dn}>${s.dst.dn}:${s.action}:${String(s.answered)}`)
}

/** Plays a call that should end at once, and returns its history segments. */
async function endsAtOnce (cc: CcSim, script: Record<string, unknown>): Promise<string[]> {
  const callid = await cc.call({ ...script, busy: true })
  await cc.waitEnded([callid], 2000)
  return segmentsOf(cc, callid)
}

t.test('a scripted call to a busy extension with no busy route ends busy at once', async (t) => {
  const cc = await startCcSim(t)
  await busy102(cc)
  const callid = await cc.call({ from: CALLER, to: DID_102, answer: '102', ringMs: 5000, busy: true })
  await cc.waitEnded([callid], 2000)
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { status: 'ended', answeredAt: null, answeredBy: null })
  t.same(segmentsOf(cc, callid), ['10000>102:busy:false'], 'a busy segment, 102 never rang')
  t.same(notation(await cc.eventsOf(callid)), ['+10000#p1 Ringing 102/Wextension CALLER', '-10000#p1'])
  t.equal((await cc.get('/callcontrol/102/participants')).body.length, 1, '102 keeps only its first call')

  profileOf(cc, '102').AvailableRoute = { BusyAllCalls: false, BusyExternal: { To: 'VoiceMail', Number: '102' } }
  t.same(await endsAtOnce(cc, { from: CALLER, to: DID_102, answer: '102' }), ['10000>102:busy:false'], 'voicemail (not simulated) ends the call too')
})

t.test('without busy: true a busy extension rings as if it were free; call waiting takes a second call', async (t) => {
  const cc = await startCcSim(t)
  await busy102(cc)
  const free = await cc.call({ from: CALLER, to: DID_102, answer: '102', ringMs: 20, talkMs: 50 })
  await cc.waitEnded([free])
  t.match((await cc.get(`/_sim/calls/${free}`)).body, { answeredBy: '102' })
  profileOf(cc, '102').AcceptMultipleCalls = true
  const waiting = await cc.call({ from: CALLER, to: DID_102, answer: '102', ringMs: 20, talkMs: 50, busy: true })
  await cc.waitEnded([waiting])
  t.match((await cc.get(`/_sim/calls/${waiting}`)).body, { answeredBy: '102' }, 'call waiting on: the second call is answered')
  t.match(await cc.post('/_sim/calls', { from: CALLER, to: DID_102, busy: 'yes' }), { status: 400 })
  t.throws(() => cc.sim.ctx.engine.startCall({ from: CALLER, to: DID_102, busy: 'yes' as unknown as boolean }), SimScriptError)
})

t.test('busy forwarding from the profile (set over XAPI): external calls to a queue, internal ones to an extension', async (t) => {
  const cc = await startCcSim(t)
  const users = await cc.get("/xapi/v1/Users?$filter=Number eq '102'&$expand=ForwardingProfiles")
  const user = users.body.value[0] as { Id: number, ForwardingProfiles: Array<Record<string, unknown>> }
  const profiles = user.ForwardingProfiles.map((p) => p.Name !== 'Available' ? p : {
    ...p,
    AvailableRoute: { BusyAllCalls: false, BusyInternal: { To: 'Extension', Number: '103' }, BusyExternal: { To: 'Queue', Number: '801' } }
  })
  const patched = await fetch(`${cc.sim.url}/xapi/v1/Users(${user.Id})`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ForwardingProfiles: profiles })
  })
  t.equal(patched.status, 204)
  await busy102(cc)

  const external = await cc.call({ from: CALLER, to: DID_102, answer: '102', ringMs: 20, talkMs: 50, busy: true })
  await cc.waitEnded([external])
  t.match((await cc.get(`/_sim/calls/${external}`)).body, { answeredBy: '104', queue: { dn: '801', answeredBy: '104' } }, 'the queue\'s first free agent answers')
  t.equal(segmentsOf(cc, external)[0], '10000>102:busy:false')

  const internal = await cc.call({ from: '101', to: '102', answer: '102', ringMs: 20, talkMs: 50, busy: true })
  await cc.waitEnded([internal])
  t.match((await cc.get(`/_sim/calls/${internal}`)).body, { answeredBy: '103' })
  t.same(segmentsOf(cc, internal), ['101>102:busy:false', '101>103:answered:true'])

  const unanswered = await cc.call({ from: '101', to: '102', answer: null, ringMs: 50, busy: true })
  await cc.waitEnded([unanswered])
  t.match((await cc.get(`/_sim/calls/${unanswered}`)).body, { answeredBy: null }, 'a script nobody answers stays unanswered after the forward')
  t.same(segmentsOf(cc, unanswered), ['101>102:busy:false', '101>103:abandoned:false'])
})

t.test('a busy forward to an extension that is busy too ends the call (one forward only)', async (t) => {
  const cc = await startCcSim(t)
  profileOf(cc, '102').AvailableRoute = { BusyAllCalls: true, BusyInternal: { To: 'Extension', Number: '103' } }
  profileOf(cc, '103').AvailableRoute = { BusyAllCalls: true, BusyInternal: { To: 'Extension', Number: '102' } }
  await busy102(cc)
  const busy103 = await cc.call({ from: '104', to: '103', answer: '103', ringMs: 20, talkMs: 20_000 })
  await talking(cc, busy103)
  t.same(await endsAtOnce(cc, { from: CALLER, to: DID_102, answer: '102', ringMs: 20 }), ['10000>102:busy:false', '10000>103:busy:false'])

  profileOf(cc, '102').AvailableRoute = { BusyAllCalls: true, BusyInternal: { To: 'Queue', Number: '103' } }
  t.same(await endsAtOnce(cc, { from: CALLER, to: DID_102, answer: '102' }), ['10000>102:busy:false'], 'a destination whose type does not match its number ends the call')
})

t.test('traffic plays busy states only when asked', async (t) => {
  const cc = await startCcSim(t)
  const engine = cc.sim.ctx.engine
  const busyFlags: unknown[] = []
  const startCall = engine.startCall.bind(engine)
  engine.startCall = (script) => { busyFlags.push(script.busy); return startCall(script) }
  const run = async (body: Record<string, unknown>): Promise<unknown[]> => {
    busyFlags.length = 0
    t.match(await cc.post('/_sim/traffic', { callsPerSecond: 20, seconds: 0.2, seed: 7, maxRingMs: 50, maxTalkMs: 50, ...body }), { status: 202, body: { calls: 4 } })
    for (let i = 0; i < 100 && (await cc.get('/_sim/traffic')).body.running === true; i++) await sleep(20)
    return [...busyFlags]
  }
  t.same(await run({}), [false, false, false, false], 'by default every extension rings as if free')
  t.same(await run({ busy: true }), [true, true, true, true])
  t.match(await cc.post('/_sim/traffic', { callsPerSecond: 1, seconds: 1, busy: 'sometimes' }), { status: 400 })
  cc.sim.reset()
})
