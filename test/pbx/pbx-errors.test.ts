import t from 'tap'
import { errorForStatus, isFunctionCall, pbxMessage, xapiRouteTemplate } from '../../src/pbx/pbx-errors.js'
import { errorForNetwork } from '../../src/pbx/pbx-http.js'
import { backoffDelay } from '../../src/pbx/backoff.js'
import { functionCall, keyPath } from '../../src/pbx/odata.js'

t.test('route templates never carry ids, numbers or caller values', async (t) => {
  t.equal(xapiRouteTemplate('Users'), 'Users')
  t.equal(xapiRouteTemplate('/Users?$filter=Number%20eq%20%27101%27'), 'Users')
  t.equal(xapiRouteTemplate(keyPath('Users', 42)), 'Users({key})')
  t.equal(xapiRouteTemplate(`${keyPath('Users', { Number: "O')(Brien" })}/ForwardingProfiles`), 'Users({key})/ForwardingProfiles')
  t.equal(xapiRouteTemplate(`ReportCallLogData/${functionCall('Pbx.GetCallLogData', { periodFrom: new Date(0), sourceFilter: "a)'b" })}`), 'ReportCallLogData/Pbx.GetCallLogData')
  t.equal(xapiRouteTemplate('ActiveCalls(12)/Pbx.DropCall'), 'ActiveCalls({key})/Pbx.DropCall')
  t.equal(xapiRouteTemplate('SystemStatus/Pbx.SystemExtensions()'), 'SystemStatus/Pbx.SystemExtensions')
  t.equal(xapiRouteTemplate(''), '/')
})

t.test('function calls are told apart from entity keys', async (t) => {
  t.ok(isFunctionCall('Recordings/Pbx.DownloadRecording(recId=1)'))
  t.notOk(isFunctionCall('Users(Number=%27101%27)'))
  t.notOk(isFunctionCall('Users/Pbx.MakeCall'))
})

t.test('the PBX message is read from OData errors and Call Control results', async (t) => {
  t.equal(pbxMessage('{"error":{"code":"x","message":"No  such\\nthing"}}'), 'No such thing')
  t.equal(pbxMessage('{"finalstatus":0,"reasontext":"Busy"}'), 'Busy')
  t.equal(pbxMessage('{"error":"invalid_client","error_description":"bad"}'), 'bad')
  t.equal(pbxMessage('<html>'), '')
})

t.test('status codes map to codes and advice', async (t) => {
  const map = (status: number, path: string, api: 'xapi' | 'callcontrol' = 'xapi'): ReturnType<typeof errorForStatus> =>
    errorForStatus({ api, method: 'GET', route: api === 'xapi' ? xapiRouteTemplate(path) : path, path, status, body: '' })
  const history = map(403, 'CallHistoryView?$top=1')
  t.equal(history.code, 'PBX_FORBIDDEN')
  t.match(history.message, /System Owner/)
  t.match(map(403, 'ReportCallLogData/Pbx.GetCallLogData(x=1)').message, /System Owner/)
  t.match(map(403, 'Users').message, /XAPI Access Enabled/)
  t.match(map(403, 'callcontrol', 'callcontrol').message, /3CX Call Control API Access/)
  t.same([map(404, 'Users(1)').code, map(404, 'Users(1)').status], ['PBX_NOT_FOUND', 404])
  t.equal(map(404, 'R/Pbx.GetX(a=1)').code, 'PBX_BAD_FUNCTION_CALL')
  t.equal(map(500, 'R/Pbx.GetX(a=1)').code, 'PBX_BAD_VALUE')
  t.equal(map(500, 'Users').code, 'PBX_ERROR')
  t.same([map(504, 'R/Pbx.GetX(a=1)').code, map(504, 'CallHistoryView').code, map(504, 'Users').code], ['PBX_RANGE_TOO_LARGE', 'PBX_RANGE_TOO_LARGE', 'PBX_TIMEOUT'])
  t.equal(map(422, 'callcontrol/{dn}/participants/{id}/answer', 'callcontrol').code, 'PBX_REJECTED')
  t.equal(map(401, 'Users').code, 'PBX_AUTH_FAILED')
  const other = map(418, 'Users')
  t.same([other.code, other.status, other.pbxStatus], ['PBX_ERROR', 502, 418])
})

t.test('network failures say what to check', async (t) => {
  t.match(errorForNetwork({ code: 'ECONNREFUSED' }, 'GET x', 'h:1'), { code: 'PBX_UNREACHABLE', status: 503, message: /refused/ })
  t.match(errorForNetwork({ code: 'ENOTFOUND' }, 'GET x', 'h:1'), { code: 'PBX_UNREACHABLE', message: /resolve/ })
  t.match(errorForNetwork({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'GET x', 'h:1'), { code: 'PBX_UNREACHABLE', message: /certificate/ })
  t.match(errorForNetwork({ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'GET x', 'h:1'), { code: 'PBX_TIMEOUT', status: 504 })
  t.match(errorForNetwork({ cause: { code: 'EHOSTUNREACH' } }, 'GET x', 'h:1'), { code: 'PBX_UNREACHABLE', message: /allow-list/ })
  t.match(errorForNetwork(new Error('x'), 'GET x', 'h:1'), { code: 'PBX_UNREACHABLE', message: /network error/ })
})

t.test('backoff grows, is capped and jittered into the upper half', async (t) => {
  const o = { baseMs: 100, maxMs: 1000 }
  t.same([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o, () => 1)), [100, 200, 400, 800, 1000, 1000])
  t.same([0, 1, 2].map((a) => backoffDelay(a, o, () => 0)), [50, 100, 200])
  t.equal(backoffDelay(1e9, o, () => 0.5), 750)
})
