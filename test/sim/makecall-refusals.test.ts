// MakeCall refused as 3CX refuses it, over XAPI (`Users/Pbx.MakeCall`: 400 with the sentence) and
// Call Control (422 with `reason`): PhoneNotRegistered, NoDestinations (internal-only user, no
// outbound rule or trunk for the number), PhoneBusy; an unknown contact (device) is 404.
import t from 'tap'
import { sleep, startCcSim, type CcSim } from './callcontrol-harness.js'
import { lengthAllowed, outboundTrunk } from '../../src/sim/engine/outbound-rules.js'

async function xapiMakeCall (cc: CcSim, body: Record<string, unknown>): Promise<{ status: number, body: any }> {
  return await cc.post('/xapi/v1/Users/Pbx.MakeCall', body)
}

/** Creates an outbound rule through XAPI, as an administrator would. */
async function addRule (cc: CcSim, rule: Record<string, unknown>): Promise<void> {
  const res = await cc.post('/xapi/v1/OutboundRules', rule)
  if (res.status !== 201) throw new Error(`POST OutboundRules ${res.status}: ${JSON.stringify(res.body)}`)
}

t.test('XAPI MakeCall refuses like Call Control: 400 with the sentence Call Control gives as reasontext', async (t) => {
  const cc = await startCcSim(t)
  const refused = await xapiMakeCall(cc, { dn: '115', destination: '101' })
  t.match(refused, { status: 400, body: { error: { message: 'extension 115 is not registered: it has no phone to ring first' } } })
  t.match(await cc.post('/callcontrol/115/makecall', { destination: '101' }), {
    status: 422, body: { reason: 'PhoneNotRegistered', reasontext: refused.body.error.message }
  })

  const user = cc.sim.ctx.directory.users.find((u) => u.Number === '103')
  if (user === undefined) throw new Error('seed lost 103')
  user.Internal = true
  t.match(await xapiMakeCall(cc, { dn: '103', destination: '+15557000002' }), { status: 400, body: { error: { message: /103 may only make internal calls/ } } })

  t.equal((await xapiMakeCall(cc, { dn: '101', destination: '102' })).status, 200)
  for (let i = 0; i < 100 && cc.sim.ctx.engine.participants('102').every((p) => p.status !== 'Connected'); i++) await sleep(20)
  t.match(await xapiMakeCall(cc, { dn: '104', destination: '102' }), { status: 400, body: { error: { message: 'extension 102 is busy (in a call, call waiting off)' } } })
  t.match(await cc.post('/callcontrol/104/makecall', { destination: '102' }), { status: 422, body: { reason: 'PhoneBusy' } })
  cc.sim.reset()
})

t.test('XAPI MakeCall with a contact: the extension\'s own device places it, an unknown one is 404', async (t) => {
  const cc = await startCcSim(t)
  const [device] = (await cc.get('/callcontrol/101/devices')).body as Array<{ device_id: string }>
  t.match(await xapiMakeCall(cc, { dn: '101', destination: '104', contact: device.device_id }), { status: 200, body: { Result: { DN: '101' } } })
  t.match(await xapiMakeCall(cc, { dn: '105', destination: '104', contact: 'sip:105@10.9.9.9:5060' }), {
    status: 404, body: { error: { code: 'NotFound', message: 'DN 105 has no registered device sip:105@10.9.9.9:5060.' } }
  })
  t.match(await xapiMakeCall(cc, { dn: '105', destination: '106', contact: null }), { status: 200 }, 'a null contact is no contact')
  t.match(await xapiMakeCall(cc, { dn: '116', destination: '104', contact: 'sip:116@10.9.9.9' }), { status: 400, body: { error: { message: /116 is not registered/ } } }, 'no phone at all: PhoneNotRegistered first')
  cc.sim.reset()
})

t.test('outbound rules decide which external numbers a makecall may dial (NoDestinations otherwise)', async (t) => {
  const cc = await startCcSim(t)
  const trunk = cc.sim.ctx.directory.trunks[0]
  t.equal((await xapiMakeCall(cc, { dn: '101', destination: '+15557000002' })).status, 200, 'no rule has a route: the first outbound trunk')

  await addRule(cc, { Name: 'Local 0', Prefix: '0', NumberLengthRanges: '7-11', Priority: 1, Routes: [{ TrunkId: trunk.Id }] })
  await addRule(cc, { Name: 'Managers abroad', Prefix: '+44', DNRanges: [{ From: '100', To: '101' }], Priority: 2, Routes: [{ TrunkId: trunk.Id }] })
  const sentence = 'no outbound rule allows +15557000002 from 101 through a trunk that takes outbound calls'
  t.match(await xapiMakeCall(cc, { dn: '101', destination: '+15557000002' }), { status: 400, body: { error: { message: sentence } } })
  t.match(await cc.post('/callcontrol/101/makecall', { destination: '+15557000002' }), { status: 422, body: { reason: 'NoDestinations', reasontext: sentence } })
  t.equal((await xapiMakeCall(cc, { dn: '101', destination: '0123456' })).status, 200, 'prefix 0, 7 digits')
  t.match(await cc.post('/callcontrol/101/makecall', { destination: '012345678901' }), { status: 422, body: { reason: 'NoDestinations' } }, '12 digits: too long')
  t.equal((await cc.post('/callcontrol/100/makecall', { destination: '+442071234567' })).status, 200, '100 is in the rule\'s range')
  t.match(await cc.post('/callcontrol/104/makecall', { destination: '+442071234567' }), { status: 422, body: { reason: 'NoDestinations' } }, '104 is not')

  trunk.EnableOutboundCalls = false
  t.match(await xapiMakeCall(cc, { dn: '101', destination: '0123456' }), { status: 400, body: { error: { message: /no outbound rule allows 0123456/ } } }, 'the rule\'s only trunk takes no outbound calls')
  cc.sim.reset()
})

t.test('outbound rules, the pure decision', async (t) => {
  t.ok(lengthAllowed('', 3))
  t.ok(lengthAllowed('7, 10-11', 10))
  t.notOk(lengthAllowed('7,10-11', 9))
  t.notOk(lengthAllowed('x', 1), 'an unreadable range holds nothing')
  const trunks = [
    { Id: 1, IsOnline: true, EnableOutboundCalls: true },
    { Id: 2, IsOnline: false, EnableOutboundCalls: true }
  ] as any
  const groupRule = { GroupIds: [7], Routes: [{ TrunkId: 2 }, { TrunkId: 1 }] }
  t.equal((outboundTrunk([groupRule], trunks, '101', { Groups: [{ GroupId: 7 }] } as any, '123') as { Id: number }).Id, 1, 'an offline trunk is passed over')
  t.type(outboundTrunk([groupRule], trunks, '101', { Groups: [{ GroupId: 8 }] } as any, '123'), 'string', 'a caller outside the groups')
  t.type(outboundTrunk([groupRule], trunks, '101', undefined, '123'), 'string')
  const first = { Priority: 5, Routes: [{ TrunkId: 1 }] }
  const offline = { Priority: 1, Routes: [{ TrunkId: 2 }] }
  t.equal((outboundTrunk([first, offline], trunks, '101', undefined, '123') as { Id: number }).Id, 1, 'a rule with no usable trunk lets later rules try')
  t.equal(outboundTrunk([], [trunks[1]], '101', undefined, '123'), 'no trunk takes outbound calls')
})
