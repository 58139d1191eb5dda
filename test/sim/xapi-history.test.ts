// CallHistoryView, the report functions and Recordings: from injected records and from calls the
// engine really plays; function-call validation (404/500/504), SystemAdmin 403, WAV download, and
// paging through 100,000 history rows.
import t from 'tap'
import { injectCallRecords } from '../../src/sim/xapi/record-source.js'
import { syntheticCallRecords } from '../../src/sim/xapi/synthetic-records.js'
import { until } from '../pbx/pbx-fixture.js'
import { DAY, recordedCall, tenQueueCalls } from './xapi-records.js'
import { CALL_LOG_ARGS, callLogPath, fetchToken, filter, queueReportPath, startXapiSim } from './xapi-fixture.js'

const FROM = `${DAY}T00:00:00Z`
const TO = `${DAY}T23:59:59Z`

t.test('CallHistoryView: one row per segment, OData over it', async (t) => {
  const x = await startXapiSim(t)
  injectCallRecords(x.sim.ctx, tenQueueCalls())
  const all = await x.get('CallHistoryView?$count=true&$top=3')
  t.equal(all.body['@odata.count'], 30)
  t.same(all.body.value.map((r: { SrcDn: string, DstDn: string }) => `${r.SrcDn}>${r.DstDn}`), ['10000>800', '800>101', '10000>101'])
  t.match(all.body.value[2], { CallAnswered: true, CallTime: 'PT20S', SegmentType: 2, SrcExternal: true, DstInternal: true, DstDnType: 0, SrcDnType: 1 })

  const q = `SegmentStartTime ge ${DAY}T09:05:00Z and (SrcDn eq '102' or DstDn eq '102')`
  const mine = await x.get(`CallHistoryView?${filter(q)}&$orderby=SegmentStartTime desc&$select=SegmentId,DstDn,SegmentStartTime&$count=true`)
  t.equal(mine.body['@odata.count'], 2, 'only call 8 (09:07) reached 102 after 09:05: two segments')
  t.same(Object.keys(mine.body.value[0]), ['SegmentId', 'SegmentStartTime', 'DstDn'])
  t.ok(mine.body.value[0].SegmentStartTime >= mine.body.value[1].SegmentStartTime, 'newest first')
  const lost = await x.get(`CallHistoryView?${filter('CallAnswered eq false and SegmentActionId eq 6')}&$count=true&$top=0`)
  t.same(lost.body, { '@odata.context': x.context('CallHistoryView'), '@odata.count': 2, value: [] }, 'the abandoned call has two abandoned segments')
})

t.test('report functions: rows, parameters and validation like the real PBX', async (t) => {
  const x = await startXapiSim(t)
  injectCallRecords(x.sim.ctx, tenQueueCalls())
  const log = await x.get(`${callLogPath(FROM, TO)}?$count=true&$top=2`)
  t.equal(log.status, 200)
  t.equal(log.body['@odata.count'], 30)
  t.match(log.body.value[0], { CallId: 900000, SegmentId: Number, Direction: 'Inbound', SourceDn: '10000', DestinationDn: '800', Indent: 0 })
  const answered = await x.get(callLogPath(FROM, TO, CALL_LOG_ARGS.replace('callsType=0', 'callsType=1')) + '?$count=true&$top=0')
  t.equal(answered.body['@odata.count'], 9, 'callsType=1: answered segments only')
  const from101 = await x.get(callLogPath(FROM, TO, CALL_LOG_ARGS.replace("destinationFilter=''", "destinationFilter='101'")) + `?${filter('Answered eq true')}&$select=CallId`)
  t.same(from101.body.value.map((r: { CallId: number }) => r.CallId), [900000, 900003, 900006], '$filter on top of the function')
  const narrow = await x.get(callLogPath(`${DAY}T09:02:00Z`, `${DAY}T09:04:00Z`) + '?$count=true&$top=0')
  t.equal(narrow.body['@odata.count'], 6, 'the period is [from, to)')

  const abandoned = await x.get(queueReportPath('abandoned', FROM, TO))
  t.same(abandoned.body.value.map((r: { CallHistoryId: string, QueueDn: string, WaitTime: string, PollingAttempts: number }) => [r.CallHistoryId, r.QueueDn, r.WaitTime, r.PollingAttempts]),
    [['900009', '800', 'PT7S', 1]])
  t.same((await x.get(queueReportPath('abandoned', FROM, TO, "'800'", "'0:00:30'"))).body.value, [], 'waitInterval drops shorter waits')
  t.same((await x.get(queueReportPath('abandoned', FROM, TO, "'801'"))).body.value, [])

  const perf = await x.get(queueReportPath('performance', FROM, TO))
  t.same(perf.body.value.map((r: { ExtensionDn: string, ExtensionAnsweredCount: number, QueueReceivedCount: number, QueueAnsweredCount: number }) =>
    [r.ExtensionDn, r.ExtensionAnsweredCount, r.QueueReceivedCount, r.QueueAnsweredCount]), [['101', 3, 10, 9], ['102', 3, 10, 9], ['103', 3, 10, 9]])

  const cases: Array<[string, number]> = [
    [callLogPath(FROM, TO, 'sourceType=0'), 404],
    [callLogPath(FROM, TO, `${CALL_LOG_ARGS},extra=1`), 404],
    [callLogPath(FROM, TO, CALL_LOG_ARGS.replace("sourceFilter=''", "sourceFilter='")), 404],
    [callLogPath('yesterday', TO), 404],
    [callLogPath(`'${FROM}'`, TO), 500],
    [callLogPath(FROM, TO, CALL_LOG_ARGS.replace('sourceType=0', "sourceType='x'")), 500],
    [callLogPath(FROM, TO, CALL_LOG_ARGS.replace('hidePcalls=true', 'hidePcalls=1')), 500],
    [callLogPath('2025-01-01T00:00:00Z', '2025-03-01T00:00:00Z'), 504],
    [queueReportPath('abandoned', FROM, TO, '800'), 500],
    [queueReportPath('abandoned', FROM, TO, "'800'", "'soon'"), 500],
    [queueReportPath('performance', FROM, TO).replace(",waitInterval='0:00:00'", ''), 404],
    ['ReportCallLogData/Pbx.GetCallLogData', 404],
    ['ReportCallLogData', 404]
  ]
  for (const [path, status] of cases) {
    const res = await x.get(path)
    t.equal(res.status, status, path)
    t.type(res.body.error?.code, 'string', 'OData error shape')
  }
})

t.test('Recordings: list, download, 404s', async (t) => {
  const x = await startXapiSim(t)
  injectCallRecords(x.sim.ctx, [await recordedCall(x.sim.ctx.recordingsDir)])
  const list = await x.get('Recordings?$orderby=StartTime desc&$count=true')
  t.equal(list.body['@odata.count'], 2)
  t.match(list.body.value[0], { Id: 501, FromDn: '10000', FromCallerNumber: '+15557000000', ToDn: '102', ToDnType: 0, CallType: 'InboundExternal', IsArchived: false, FromDidNumber: '+15550101' })
  t.same((await x.get(`Recordings?${filter('Id eq 502')}&$select=Id,RecordingUrl`)).body.value, [{ Id: 502, RecordingUrl: list.body.value[1].RecordingUrl }])
  const history = await x.get(`CallHistoryView?${filter('DstRecId ne null')}&$select=DstRecId`)
  t.same(history.body.value, [{ DstRecId: 501 }], 'history points at the recording')

  const res = await fetch(`${x.sim.url}/xapi/v1/Recordings/Pbx.DownloadRecording(recId=502)`, { headers: { authorization: `Bearer ${x.token}` } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'audio/x-wav')
  t.match(res.headers.get('content-disposition'), /^attachment; filename=".+\.wav"$/)
  const bytes = Buffer.from(await res.arrayBuffer())
  t.equal(bytes.subarray(0, 4).toString(), 'RIFF')
  t.equal(bytes.length, Number(res.headers.get('content-length')))

  for (const [path, status] of [['Recordings/Pbx.DownloadRecording(recId=9)', 404], ['Recordings/Pbx.DownloadRecording(recId=)', 404],
    ['Recordings/Pbx.DownloadRecording(id=501)', 404], ['Recordings/Pbx.DownloadRecording()', 404], ["Recordings/Pbx.DownloadRecording(recId='x')", 500],
    ['Recordings(501)', 404]] as const) {
    t.equal((await x.get(path)).status, status, path)
  }
})

t.test('a SystemAdmin client gets 403 on history, recordings and reports', async (t) => {
  const x = await startXapiSim(t)
  x.sim.ctx.directory.apiClients.push({ clientId: 'admin', secret: 'admin-secret', xapi: true, callControl: false, role: 'SystemAdmin', monitored: 'all' })
  const token = await fetchToken(x.sim.url, 'admin', 'admin-secret')
  const get = async (path: string): Promise<Response> => await fetch(`${x.sim.url}/xapi/v1/${path}`, { headers: { authorization: `Bearer ${token}` } })
  for (const path of ['CallHistoryView', 'Recordings', 'Recordings/Pbx.DownloadRecording(recId=1)', callLogPath(FROM, TO), queueReportPath('abandoned', FROM, TO), queueReportPath('performance', FROM, TO)]) {
    const res = await get(path)
    t.equal(res.status, 403, path)
    t.match(await res.json(), { error: { code: 'Forbidden', message: /System Owner/ } })
  }
  t.equal((await get('Users?$top=1')).status, 200, 'the directory stays readable')
})

t.test('calls played by the engine: MakeCall, ActiveCalls, DropCall, history and recordings', async (t) => {
  const x = await startXapiSim(t)
  const made = await x.post('Users/Pbx.MakeCall', { dn: '101', destination: '102', contact: null, testCall: false })
  t.equal(made.status, 200)
  t.match(made.body, { FinalStatus: 'Success', Result: { DN: '101', CallId: Number, Id: Number } })
  const callid = made.body.Result.CallId as number
  const active = await x.get(`ActiveCalls?${filter("contains(Caller,'101')")}`)
  t.match(active.body.value, [{ Id: callid, Caller: '101', Status: 'Ringing' }])
  t.equal((await x.get('SystemStatus?$select=CallsActive')).body.CallsActive, 1)
  const dropped = await x.post(`ActiveCalls(${callid})/Pbx.DropCall`)
  t.equal(dropped.status, 200)
  t.same(dropped.body, {})
  t.same((await x.get('ActiveCalls')).body.value, [])
  t.equal((await x.post(`ActiveCalls(${callid})/Pbx.DropCall`)).status, 404, 'an ended call cannot be dropped')
  t.equal((await x.post('Users/Pbx.MakeCall', { dn: '999', destination: '102' })).status, 400, 'the engine refuses an unknown extension')

  const { callid: played } = x.sim.ctx.engine.startCall({ from: '+15557654321', to: '+15550102', answer: '102', ringMs: 50, talkMs: 200, record: true })
  await until(() => x.sim.ctx.engine.records().some((r) => r.callid === played && r.status === 'ended' && r.recordings.length > 0), 8000, 'the recorded call to end')
  const history = await x.get(`CallHistoryView?${filter("DstDn eq '102' and CallAnswered eq true")}&$select=SrcCallerNumber,DstDn,DstRecId`)
  t.match(history.body.value, [{ SrcCallerNumber: '+15557654321', DstDn: '102' }])
  const recs = await x.get(`Recordings?${filter("ToDn eq '102' or FromDn eq '102'")}`)
  t.equal(recs.body.value.length, 1)
  const wav = await fetch(`${x.sim.url}/xapi/v1/Recordings/Pbx.DownloadRecording(recId=${recs.body.value[0].Id as number})`, { headers: { authorization: `Bearer ${x.token}` } })
  t.equal(wav.status, 200)
  t.equal(Buffer.from(await wav.arrayBuffer()).subarray(0, 4).toString(), 'RIFF')
})

t.test('paging through 100,000 history rows answers every page (its speed: the bench figure history-paging)', async (t) => {
  const x = await startXapiSim(t)
  const records = syntheticCallRecords(33_334, { from: new Date('2025-02-01T00:00:00Z'), spacingMs: 30_000 })
  injectCallRecords(x.sim.ctx, records)
  const first = await x.get('CallHistoryView?$count=true&$top=1000&$skip=0')
  t.equal(first.body['@odata.count'], 100_002)
  for (const skip of [25_000, 50_000, 99_000]) {
    const page = await x.get(`CallHistoryView?$top=1000&$skip=${skip}&${filter('SegmentStartTime ge 2025-02-01T00:00:00Z')}`)
    t.equal(page.body.value.length, 1000)
  }
  const sorted = await x.get('CallHistoryView?$top=5&$orderby=SegmentStartTime desc&$select=SegmentId')
  t.equal(sorted.body.value.length, 5)
})
