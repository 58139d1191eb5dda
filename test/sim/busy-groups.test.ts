// Busy members of queues and ring groups (scripts with "busy": true): a member already in another
// call whose profile takes no second call is skipped, not rung (no participant, no event, not in
// agentsRung); with call waiting on, or without the flag, they ring as before.
import t from 'tap'
import { CALLER, sleep, startCcSim, type CcSim } from './callcontrol-harness.js'

const RING_GROUP_700_DID = '+15550103'
const SALES_800_DID = '+15550101'

/** Puts `dn` in a long answered internal call from `from`; returns when it talks. */
async function makeBusy (cc: CcSim, dn: string, from: string): Promise<void> {
  const callid = await cc.call({ from, to: dn, answer: dn, ringMs: 20, talkMs: 30_000 })
  for (let i = 0; i < 200; i++) {
    if ((await cc.get(`/_sim/calls/${callid}`)).body.status === 'talking') return
    await sleep(20)
  }
  throw new Error(`${dn} never got busy`)
}

/** The extensions other than the caller that got a participant in the call (in order of first appearance). */
async function rung (cc: CcSim, callid: number, caller = ''): Promise<string[]> {
  const dns = (await cc.eventsOf(callid)).map((e) => e.participant.dn).filter((dn) => /^1\d\d$/.test(dn) && dn !== caller)
  return [...new Set(dns)]
}

async function played (cc: CcSim, script: Record<string, unknown>): Promise<{ callid: number, status: any }> {
  const callid = await cc.call(script)
  await cc.waitEnded([callid])
  return { callid, status: (await cc.get(`/_sim/calls/${callid}`)).body }
}

function setCallWaiting (cc: CcSim, dn: string, on: boolean): void {
  const user = cc.sim.ctx.directory.users.find((u) => u.Number === dn)
  const profile = user?.ForwardingProfiles.find((p) => p.Name === user.CurrentProfileName)
  if (profile === undefined) throw new Error(`seed lost ${dn}'s profile`)
  profile.AcceptMultipleCalls = on
}

t.test('a ring group skips its busy member; without busy: true (or with call waiting) it rings', async (t) => {
  const cc = await startCcSim(t)
  await makeBusy(cc, '101', '104')
  const script = { from: CALLER, to: RING_GROUP_700_DID, answer: '100', ringMs: 150, talkMs: 50 }

  const busy = await played(cc, { ...script, busy: true })
  t.same(await rung(cc, busy.callid), ['100'], '101 is busy: only 100 rings')
  t.match(busy.status, { answeredBy: '100' })

  const free = await played(cc, script)
  t.same(await rung(cc, free.callid), ['100', '101'], 'without the flag both ring, as before')

  setCallWaiting(cc, '101', true)
  const waiting = await played(cc, { ...script, busy: true })
  t.same(await rung(cc, waiting.callid), ['100', '101'], 'call waiting on: 101 rings')
})

t.test('a ring-all queue skips its busy agent: not rung, not in agentsRung', async (t) => {
  const cc = await startCcSim(t)
  await makeBusy(cc, '101', '104')
  const { callid, status } = await played(cc, { from: CALLER, to: SALES_800_DID, answer: '102', ringMs: 150, talkMs: 50, busy: true })
  t.same(await rung(cc, callid), ['102', '103'])
  t.match(status, { answeredBy: '102', queue: { dn: '800', agentsRung: ['102', '103'], answeredBy: '102' } })

  const busyAnswerer = await played(cc, { from: CALLER, to: SALES_800_DID, answer: '101', ringMs: 150, busy: true })
  t.match(busyAnswerer.status, { answeredBy: null, queue: { agentsRung: ['102', '103'], abandoned: true } }, 'the agent the script names is busy: nobody answers')
})

t.test('a hunt queue passes over its busy agent; with every agent busy nobody rings', async (t) => {
  const cc = await startCcSim(t)
  await makeBusy(cc, '104', '100')
  const hunt = await played(cc, { from: '103', to: '801', answer: '105', ringMs: 150, talkMs: 50, busy: true })
  t.same(await rung(cc, hunt.callid, '103'), ['105'])
  t.match(hunt.status, { answeredBy: '105', queue: { agentsRung: ['105'] } })

  await makeBusy(cc, '105', '102')
  const none = await played(cc, { from: '103', to: '801', answer: null, ringMs: 150, busy: true })
  t.same(await rung(cc, none.callid, '103'), [], 'nobody rings')
  t.match(none.status, { answeredBy: null, queue: { agentsRung: [], abandoned: true } })
})

t.test('makecall to a ring group is answered by a member that is not busy', async (t) => {
  const cc = await startCcSim(t)
  await makeBusy(cc, '100', '104')
  const res = await cc.post('/callcontrol/102/makecall', { destination: '700' })
  t.equal(res.status, 200)
  const callid = res.body.result.callid as number
  for (let i = 0; i < 200 && (await cc.get(`/_sim/calls/${callid}`)).body.status !== 'talking'; i++) await sleep(20)
  t.match((await cc.get(`/_sim/calls/${callid}`)).body, { status: 'talking', answeredBy: '101' })
})
