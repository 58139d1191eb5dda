// §3.1 calls in progress: answered from the live call model, no PBX round trip.
import { formatActiveConnections, formatCallsInfo } from '../../src/legacy/format-calls.js'
import { defineMethod, serializedPerList } from './legacy-method.js'
import { activeConnectionsResponse, callsInfoResponse, countResponse, noParams } from './schemas.js'

// Answers for many calls are large (60 KiB for 200 calls): serialize them once per change of the
// call list, not once per request.
const activeConnections = serializedPerList(formatActiveConnections)
const callsInfo = serializedPerList(formatCallsInfo)

export const callMethods = [
  defineMethod({
    name: 'pbx.calls.get',
    tag: 'calls',
    summary: 'Number of calls in progress',
    querystring: noParams,
    response: countResponse,
    handler: (_q, { calls }) => ({ result: calls.size() })
  }),
  defineMethod({
    name: 'pbx.ac.get',
    tag: 'calls',
    summary: 'Active connections grouped by call',
    description: '`direction`: FromExternal, FromInternal, Inbound, Outbound, External or Internal. `dnType`: the DN type in lower case without 3CX\'s W prefix. `status`: Dialing, Ringing or Connected.',
    querystring: noParams,
    response: activeConnectionsResponse,
    peek: (_q, { calls }) => activeConnections(calls.list()),
    handler: (_q, { calls }) => activeConnections(calls.list())
  }),
  defineMethod({
    name: 'pbx.callsinfo.get',
    tag: 'calls',
    summary: 'Calls with owner, talkTo and routingTo',
    description: '`owner` is the first extension in a conversation, else the leg that started the call; `talkTo` the other connected legs; `routingTo` the legs still ringing or being dialled. `answeredAt` is null until someone answers. Times are ISO-8601 UTC, whole seconds.',
    querystring: noParams,
    response: callsInfoResponse,
    peek: (_q, { calls }) => callsInfo(calls.list()),
    handler: (_q, { calls }) => callsInfo(calls.list())
  })
]
