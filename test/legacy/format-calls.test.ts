import t from 'tap'
import { callOwner, formatActiveConnections, formatCallsInfo, isoSeconds } from '../../src/legacy/format-calls.js'
import type { LiveCall } from '../../src/calls/live-call.js'
import { T0, leg, talkingCall } from './call-fixtures.js'

const talking = { ...talkingCall, startedAt: T0 + 420, answeredAt: T0 + 7420 }

const queued: LiveCall = {
  ...talking,
  callid: 46875,
  state: 'Routing',
  answeredAt: null,
  legs: [
    leg('10000', 'externalline', 'Connected', 1),
    leg('800', 'queue', 'Connected', 2),
    leg('101', 'extension', 'Ringing', 3),
    leg('102', 'extension', 'Ringing', 4)
  ]
}

t.test('isoSeconds drops milliseconds', async (t) => {
  t.equal(isoSeconds(T0), '2026-11-21T08:37:16Z')
})

t.test('pbx.ac.get shape (legacy-api.md §3.1)', async (t) => {
  t.same(formatActiveConnections([talking]), {
    count: 1,
    AConnByCallID: [{
      callID: 46874,
      direction: 'Inbound',
      did: 'Sales line',
      AConnList: [
        { dnNum: '10000', dnType: 'externalline', externalParty: '+15557654321', status: 'Connected' },
        { dnNum: '101', dnType: 'extension', externalParty: '+15557654321', status: 'Connected' }
      ]
    }]
  })
  t.same(formatActiveConnections([]), { count: 0, AConnByCallID: [] })
})

t.test('pbx.callsinfo.get: talking call, owner is the connected extension', async (t) => {
  t.same(formatCallsInfo([talking]), {
    count: 1,
    callsInfo: [{
      callID: 46874,
      state: 'Talking',
      startedAt: '2026-11-21T08:37:16Z',
      answeredAt: '2026-11-21T08:37:23Z',
      did: 'Sales line',
      owner: { dnNum: '101', dnType: 'extension', externalParty: '+15557654321', status: 'Connected' },
      talkTo: [{ dnNum: '10000', dnType: 'externalline', externalParty: '+15557654321', status: 'Connected' }],
      routingTo: []
    }]
  })
})

t.test('pbx.callsinfo.get: queued call rings agents, answeredAt null', async (t) => {
  const info = formatCallsInfo([queued]).callsInfo[0]
  t.equal(info.answeredAt, null)
  t.equal(info.owner?.dnNum, '10000', 'the trunk leg started the call')
  t.same(info.talkTo.map((c) => c.dnNum), ['800'])
  t.same(info.routingTo.map((c) => c.dnNum), ['101', '102'])
})

t.test('callOwner of no legs is null', async (t) => {
  t.equal(callOwner([]), null)
  t.equal(formatCallsInfo([{ ...talking, legs: [] }]).callsInfo[0].owner, null)
})
