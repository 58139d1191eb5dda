// Every XAPI answer the simulator gives for the gateway's operations validates against the schema
// 3CX's own OpenAPI document declares for that operation, and carries no property the type lacks.
import t from 'tap'
import { injectCallRecords } from '../../src/sim/xapi/record-source.js'
import { activeCallRow } from '../../src/sim/xapi/call-rows.js'
import { loadSwagger, SWAGGER_PATH } from './xapi-swagger.js'
import { DAY, recordedCall, tenQueueCalls } from './xapi-records.js'
import { callLogPath, queueReportPath, startXapiSim } from './xapi-fixture.js'

const contract = loadSwagger()
if (contract === null) {
  // The spec is part of the repository: a missing copy is a failure, not a reason to skip the contract.
  t.fail(`the XAPI swagger is missing at ${SWAGGER_PATH} (openapi/xapi-swagger.yaml belongs in the repository)`)
} else {
  const from = `${DAY}T00:00:00Z`
  const to = `${DAY}T23:59:59Z`
  // [request, spec path, entity type of the rows (checked for undeclared properties)]
  const cases: Array<[string, string, string]> = [
    ['Users?$expand=Groups,ForwardingProfiles', '/Users', 'Pbx.User'],
    ['Users(2)', '/Users({Id})', 'Pbx.User'],
    ["Users(Number='101')?$expand=ForwardingProfiles", '/Users(Number={Number})', 'Pbx.User'],
    ['Users(2)/ForwardingProfiles', '/Users({Id})/ForwardingProfiles', 'Pbx.ForwardingProfile'],
    ['Users(2)/Groups', '/Users({Id})/Groups', 'Pbx.UserGroup'],
    ['Queues?$expand=Agents', '/Queues', 'Pbx.Queue'],
    ['Queues(40)', '/Queues({Id})', 'Pbx.Queue'],
    ["Queues(Number='800')", '/Queues(Number={Number})', 'Pbx.Queue'],
    ['Queues(40)/Agents', '/Queues({Id})/Agents', 'Pbx.QueueAgent'],
    ['RingGroups?$expand=Members', '/RingGroups', 'Pbx.RingGroup'],
    ["RingGroups(Number='700')", '/RingGroups(Number={Number})', 'Pbx.RingGroup'],
    ['RingGroups(30)/Members', '/RingGroups({Id})/Members', 'Pbx.RingGroupMember'],
    ['Receptionists?$expand=Forwards', '/Receptionists', 'Pbx.Receptionist'],
    ['Receptionists(20)/Forwards', '/Receptionists({Id})/Forwards', 'Pbx.ReceptionistForward'],
    ['Trunks', '/Trunks', 'Pbx.Trunk'],
    ["Trunks(Number='10000')", '/Trunks(Number={Number})', 'Pbx.Trunk'],
    ['DidNumbers', '/DidNumbers', 'Pbx.DidNumber'],
    ['InboundRules?$expand=TrunkDN', '/InboundRules', 'Pbx.InboundRule'],
    ['InboundRules(61)', '/InboundRules({Id})', 'Pbx.InboundRule'],
    ['Groups?$expand=Members', '/Groups', 'Pbx.Group'],
    ['Groups(2)/Members', '/Groups({Id})/Members', 'Pbx.UserGroup'],
    ['SystemStatus', '/SystemStatus', 'Pbx.SystemStatus'],
    ['ActiveCalls', '/ActiveCalls', 'Pbx.ActiveCall'],
    ['CallHistoryView?$count=true', '/CallHistoryView', 'Pbx.CallHistoryView'],
    ['Recordings?$count=true', '/Recordings', 'Pbx.Recording'],
    [callLogPath(from, to), '/ReportCallLogData/Pbx.GetCallLogData', 'Pbx.CallLogData'],
    [queueReportPath('abandoned', from, to), '/ReportAbandonedQueueCalls/Pbx.GetAbandonedQueueCallsData', 'Pbx.AbandonedQueueCalls'],
    [queueReportPath('performance', from, to), '/ReportQueuePerformanceOverview/Pbx.GetQueuePerformanceOverviewData', 'Pbx.QueuePerformanceOverview']
  ]

  t.test('answers validate against the swagger schema of their operation', async (t) => {
    const x = await startXapiSim(t)
    injectCallRecords(x.sim.ctx, [...tenQueueCalls(), await recordedCall(x.sim.ctx.recordingsDir)])
    for (const [request, specPath, typeName] of cases) {
      const res = await x.get(request)
      t.equal(res.status, 200, `${request} answers 200`)
      const validate = contract.responseValidator(specPath)
      t.ok(validate(res.body), `${request} matches ${specPath}`, { errors: validate.errors?.slice(0, 3) })
      if (!request.includes('/Pbx.')) t.match(res.body['@odata.context'], /\/xapi\/v1\/\$metadata#\w+/, `${request} names its @odata.context`)
      const { '@odata.context': _context, ...entity } = res.body
      const rows: Array<Record<string, unknown>> = Array.isArray(res.body.value) ? res.body.value : [entity]
      if (request !== 'ActiveCalls') t.ok(rows.length > 0, `${request} has rows to check`)
      const declared = contract.declaredProperties(typeName)
      const extra = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !declared.has(k))
      t.same(extra, [], `${request} serves only ${typeName} properties`)
    }
  })

  t.test('ActiveCall rows and error bodies match their schemas', async (t) => {
    const [call] = tenQueueCalls()
    const active = { ...call, status: 'talking' as const, endedAt: null }
    const validate = contract.responseValidator('/ActiveCalls')
    t.ok(validate({ value: [activeCallRow(active, new Date())] }), 'an ActiveCall row matches /ActiveCalls', { errors: validate.errors })

    const x = await startXapiSim(t)
    const made = await x.post('Users/Pbx.MakeCall', { dn: '101', destination: '+15559870000' })
    const makeCall = contract.responseValidator('/Users/Pbx.MakeCall', 'post')
    t.ok(makeCall(made.body), 'MakeCall answers a Pbx.CallControlResultResponse', { errors: makeCall.errors })
    const live = await x.get('ActiveCalls')
    t.equal(live.body.value.length, 1)
    t.ok(validate(live.body), 'a live engine call matches /ActiveCalls', { errors: validate.errors })
    const errorSchema = contract.schemaValidator('Pbx.ODataErrors.ODataError')
    for (const request of ['Users(999)', 'Nope', 'Users?$filter=Number eq', callLogPath(from, to, 'sourceType=0')]) {
      const res = await x.get(request)
      t.ok(res.status >= 400, `${request} fails`)
      t.ok(errorSchema(res.body), `${request} answers a Pbx.ODataErrors.ODataError`, { errors: errorSchema.errors })
    }
  })
}
