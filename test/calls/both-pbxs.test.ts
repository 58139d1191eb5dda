// The gateway's core end to end on both shipped PBXs (pbx/default.yaml and pbx/branch-office.yaml), in
// PBX_URL mode as with a real PBX: the legacy GET API over the live PBX, the webhooks of a queue call
// with the PBX's DID name, its recording (XAPI download → MP3 link in a `recording` event) and makecall.
// Written once against the default PBX's numbers; pbx.n() gives each PBX's DN in the same role
// (test/sim/pbx-under-test.ts), and the directory expectations are read from the definition.
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { startReceiver } from '../webhooks/receiver.js'
import { until } from '../pbx/pbx-fixture.js'
import { downloadAndProbe } from '../recordings/download.js'
import { BRANCH_PBX_FILE, DEFAULT_PBX_FILE, numberMap, pbxUnderTest } from '../sim/pbx-under-test.js'
import { loadPbxDefinition } from '../../src/sim/pbx-definition.js'
import { FAST_SIM_TIMING } from '../sim/fast-timing.js'

const KEY = 'b7e1c40d9a2f6e35c8d0a1b2c3d4e5f6'
const CALLER = '+4917612345678'

t.test('the number map: the default PBX\'s DNs → the branch office\'s, role by role', async (t) => {
  const branch = pbxUnderTest(BRANCH_PBX_FILE)
  t.same(Object.fromEntries(numberMap(loadPbxDefinition(DEFAULT_PBX_FILE), branch.definition)), {
    800: '3100', 801: '3110', 700: '3200', 900: '3300', 10000: '40000', 599: '3999', // the k-th queue, ring group, IVR, trunk, client
    101: '2001', 102: '2002', 104: '2005', 105: '2007', // agents of the paired queues
    100: '2003', // a member of the first ring group (101 is already an agent)
    103: '2004', 106: '2008', // the remaining registered users
    115: '2006', // the unregistered ones
    '+15550100': '+4930123401', '+15550101': '+4930123402', '+15550102': '+4930123404', '+15550104': '+4930123409' // DIDs to mapped destinations
  })
  t.equal(pbxUnderTest(DEFAULT_PBX_FILE).n('119'), '119', 'the default PBX maps to itself')
  t.throws(() => branch.n('107'), /branch-office\.yaml has no counterpart of the default PBX's 107/)
  t.same(branch.didTo('3100'), { number: '+4930123402', name: 'Orders line' })
  t.same([branch.firstRung('3100'), branch.firstRung('3110'), branch.firstRung('3200')], [['2001'], ['2005', '2007'], []], 'hunt: the first agent; ring-all: all; not a queue: none')
  t.same(branch.membersOf('3200'), ['2003', '2004'])
  t.throws(() => branch.didTo('2003'), /no DID to 2003/)
})

// Both PBXs at once: each has its own simulator, gateway and receiver, and the file stays short.
t.jobs = 2
for (const pbx of [pbxUnderTest(DEFAULT_PBX_FILE), pbxUnderTest(BRANCH_PBX_FILE)]) {
  t.test(`the gateway end to end on ${pbx.name}`, { buffered: true }, async (t) => {
    const def = pbx.definition
    // WAVs 20-100 ms after the call, makecall answered after 100 ms (FAST_SIM_TIMING): nothing here measures them.
    const sim = await createSimulator({ pbx: def, timing: FAST_SIM_TIMING })
    t.teardown(async () => { await sim.close() })
    const receiver = await startReceiver()
    t.teardown(() => receiver.close())
    const config = loadConfig({
      PORT: '0', DATA_DIR: t.testdir({}), PBX_URL: sim.url, PBX_CLIENT_ID: pbx.clientId, PBX_CLIENT_SECRET: pbx.secret,
      GATEWAY_KEYS: `${KEY}:control`, WEBHOOK_URLS: receiver.url, CALL_END_GRACE_MS: '200', RECORDINGS_SOURCE: 'xapi', RECORDINGS_SETTLE_MS: '300', LOG_LEVEL: 'warn'
    })
    const gw = await startGateway(config, { pbx: { reconnect: { baseMs: 50, maxMs: 200 } } })
    t.teardown(async () => { await gw.close() })
    await gw.services.pbx.callControl.ready()
    t.equal(gw.simulator, null, 'PBX_URL mode: the gateway starts no simulator of its own')
    const get = async (method: string): Promise<any> => {
      const res = await fetch(`${gw.url}/${method}`, { headers: { 'x-api-key': KEY } })
      if (res.status !== 200) throw new Error(`${method} answered ${res.status}: ${await res.text()}`)
      return await res.json()
    }

    // The legacy GET API answers with this PBX's directory.
    const nums = (xs: Array<{ number: string }> = []): { nums: string[] } => ({ nums: xs.map((x) => x.number) })
    t.same(await get('ext.list.get'), nums(def.users))
    t.same(await get('ext.registered.get'), nums(def.users.filter((u) => u.registered !== false)))
    t.same(await get('queue.list.get'), nums(def.queues))
    t.same(await get('group.list.get'), nums(def.ringGroups))
    t.same(await get('ivr.list.get'), nums(def.ivrs))
    t.same(await get('line.list.get'), nums(def.trunks))
    const queue = pbx.n('800')
    t.same(await get(`queue.members.get?num=${queue}`), { nums: def.queues?.find((q) => q.number === queue)?.agents })

    // A recorded call on the queue's DID: the queue rings, its first agent answers and talks.
    const agent = pbx.n('101')
    const did = pbx.didTo(queue)
    const started = await fetch(`${sim.url}/_sim/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: CALLER, to: did.number, answer: agent, ringMs: 1000, talkMs: 2000, hangup: 'caller', record: true, recordingSegments: 1 })
    })
    t.equal(started.status, 201)
    const { callid } = await started.json() as { callid: number }
    let talking: any
    await until(async () => {
      talking = (await get('pbx.callsinfo.get')).callsInfo.find((c: any) => c.callID === callid && c.state === 'Talking')
      return talking !== undefined
    }, 10_000, `${agent} talking`)
    t.match(talking, { did: did.name, owner: { dnNum: agent, dnType: 'extension', externalParty: CALLER }, talkTo: [{ dnNum: pbx.n('10000'), dnType: 'externalline' }] })
    t.match(await get(`ext.state.get?num=${agent}`), { num: agent, status: 'Busy', qStatus: [{ num: queue, status: 'LoggedIn' }] })

    // Its webhooks, then its recording as an MP3 behind the announced link.
    const events = (): Array<Record<string, any>> => receiver.received.map((r) => JSON.parse(r.body) as Record<string, any>)
    const recording = (): Record<string, any> | undefined => events().find((e) => e.event === 'recording')
    await until(() => recording() !== undefined, 30_000, 'the recording event')
    const seen = events().filter((e) => e.event !== 'recording')
    t.match(seen[0], { event: 'ringing', user: queue, did: did.name, callerid: CALLER, usertype: 'queue' }, 'the queue rings first')
    t.ok(seen.some((e) => e.event === 'ringing' && e.user === agent), 'then the agent')
    t.ok(seen.some((e) => e.event === 'hangupincoming' && e.user === agent && e.did === did.name), 'the answer, with the DID name')
    const ended = seen.find((e) => e.event === 'incoming' && e.user === agent)
    t.match(ended, { finishtype: 'Ok' }, 'and the end')
    t.ok(seen.every((e) => e.chid.endsWith(`_${callid}`)), 'all of this one call')
    t.match(recording(), { id: ended?.id, FILES: [new RegExp(`/recordings/[A-Za-z0-9_-]{24}/${String(ended?.id)}-1\\.mp3$`)] })
    // The link names 127.0.0.1:PORT of the configuration (PORT 0 here): fetch its path from where the gateway listens.
    const mp3 = await downloadAndProbe(new URL(new URL(String(recording()?.FILES[0])).pathname, gw.url).href)
    t.equal(mp3.contentType, 'audio/mpeg')
    t.ok(Math.abs(mp3.durationS - 2) < 0.8, `the MP3 lasts ${mp3.durationS.toFixed(2)} s for a 2 s conversation`)
    t.match(await get(`ext.state.get?num=${agent}`), { status: 'Free' }, 'free again after the call')

    // makecall from one user to another: the PBX places it; the callee's webhooks carry the chid makecall answered.
    const from = pbx.n('102')
    const to = pbx.n('103')
    const made = await fetch(`${gw.url}/makecall?first=${from}&second=${to}`, { headers: { 'x-api-key': KEY } })
    t.equal(made.status, 200)
    const { chid } = await made.json() as { chid: string }
    await until(() => events().some((e) => e.chid === chid && e.event === 'hangupincoming' && e.user === to && e.callerid === from), 15_000, `${to} answering the call from ${from}`)
    t.ok(sim.ctx.engine.records().some((r) => r.from === from && r.to === to), `the PBX placed ${from} → ${to}`)
  })
}
