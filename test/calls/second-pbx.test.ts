// The gateway against a second, different PBX (pbx/branch-office.yaml: four-digit extensions, queue
// 3100, ring group 3200, IVR 3300, trunk 40000, client 3999), in PBX_URL mode as with a real PBX:
// scripted calls produce webhooks with the branch's DID names, and the legacy GET methods answer
// with the branch's directory and live calls.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { startGateway } from '../../src/server.js'
import { loadPbxDefinition } from '../../src/sim/pbx-definition.js'
import { createSimulator } from '../../src/sim/simulator.js'
import { startReceiver } from '../webhooks/receiver.js'

const BRANCH = fileURLToPath(new URL('../../pbx/branch-office.yaml', import.meta.url))
const KEY = 'b7e1c40d9a2f6e35c8d0a1b2c3d4e5f6'
const CALLER = '+4917612345678'

t.test('the gateway end to end on the branch-office PBX', async (t) => {
  const sim = await createSimulator({ pbx: loadPbxDefinition(BRANCH) })
  t.teardown(async () => { await sim.close() })
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const config = loadConfig({
    PORT: '0', DATA_DIR: t.testdir({}), PBX_URL: sim.url, PBX_CLIENT_ID: '3999', PBX_CLIENT_SECRET: 'branch-secret',
    GATEWAY_KEYS: `${KEY}:control`, WEBHOOK_URLS: receiver.url, CALL_END_GRACE_MS: '200', RECORDINGS_SOURCE: 'off'
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
  t.same(await get('ext.list.get'), { nums: ['2001', '2002', '2003', '2004', '2005', '2006'] })
  t.same(await get('ext.registered.get'), { nums: ['2001', '2002', '2003', '2004', '2005'] })
  t.same(await get('queue.list.get'), { nums: ['3100'] })
  t.same(await get('group.list.get'), { nums: ['3200'] })
  t.same(await get('ivr.list.get'), { nums: ['3300'] })
  t.same(await get('line.list.get'), { nums: ['40000'] })
  t.same(await get('queue.members.get?num=3100'), { nums: ['2001', '2002'] })

  // An inbound call on the Orders line: the queue hunts, 2001 answers and talks long enough to be seen.
  const started = await fetch(`${sim.url}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: CALLER, to: '+4930123402', answer: '2001', ringMs: 1500, talkMs: 4000, hangup: 'caller' })
  })
  t.equal(started.status, 201)
  const { callid } = await started.json() as { callid: number }
  let talking: any
  for (let i = 0; i < 100 && talking === undefined; i++) {
    const info = await get('pbx.callsinfo.get')
    if (info.callsInfo[0]?.state === 'Talking') talking = info.callsInfo[0]
    else await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.match(talking, { callID: callid, did: 'Orders line', owner: { dnNum: '2001', dnType: 'extension', externalParty: CALLER }, talkTo: [{ dnNum: '40000', dnType: 'externalline' }] })
  t.match(await get('ext.state.get?num=2001'), { num: '2001', status: 'Busy', qStatus: [{ num: '3100', status: 'LoggedIn' }] })

  await receiver.waitFor(4, 15_000)
  const events = (): Array<Record<string, string>> => receiver.received.map((r) => JSON.parse(r.body) as Record<string, string>)
  for (let i = 0; i < 100 && !events().some((e) => e.event === 'incoming'); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  const seen = events()
  t.match(seen[0], { event: 'ringing', user: '3100', did: 'Orders line', callerid: CALLER, usertype: 'queue' }, 'the queue rings first')
  t.ok(seen.some((e) => e.event === 'ringing' && e.user === '2001'), 'then the first agent of the hunt')
  t.ok(seen.some((e) => e.event === 'hangupincoming' && e.user === '2001' && e.did === 'Orders line'), 'the answer, with the branch DID name')
  t.ok(seen.some((e) => e.event === 'incoming' && e.user === '2001' && e.finishtype === 'Ok'), 'and the end')
  t.ok(seen.every((e) => e.chid.endsWith(`_${callid}`)), 'all of this one call')
  t.match(await get('ext.state.get?num=2001'), { status: 'Free' }, 'free again after the call')
})
