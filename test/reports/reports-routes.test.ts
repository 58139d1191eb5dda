// The report methods end to end: scripted calls played by the simulator, then every report in
// every format through the gateway, checked against what the simulator says it played.
import t from 'tap'
import type { SimCallRecord } from '../../src/sim/sim-types.js'
import { until } from '../pbx/pbx-fixture.js'
import { aroundToday, getReport, pbxRequests, playCall, READ_KEY, rowsOf, startReportGateway } from './report-harness.js'
import { readXlsx } from './report-readers.js'
import { PBX } from '../sim/pbx-under-test.js'

// The PBX's numbers (SIM_PBX): written for the default PBX, mapped by role on another (docs/simulator.md).
const [QUEUE, SUPPORT, AGENT, DIRECT] = ['800', '801', '101', '102'].map((n) => PBX.n(n))
const QUEUE_LINE = PBX.didTo(QUEUE).number
const DIRECT_LINE = PBX.n('+15550102')

const gw = await startReportGateway(t, {}, { mp3Link: (id) => id === 1 ? 'https://gw.example/recordings/tok/1.mp3' : null })
const [answered, abandoned, direct] = await Promise.all([
  playCall(gw, { from: '+15557654321', to: QUEUE_LINE, answer: AGENT, ringMs: 200, talkMs: 1200, hangup: 'caller', record: true }),
  playCall(gw, { from: '+15557654322', to: QUEUE_LINE, answer: null, ringMs: 1600 }),
  playCall(gw, { from: '+15557654323', to: DIRECT_LINE, answer: DIRECT, ringMs: 100, talkMs: 300, hangup: 'callee' })
])
const range = aroundToday()
// The WAV of the recorded call is written 0.2–2 s after its leg ends.
await until(() => gw.sim.ctx.engine.records().some((r) => r.recordings.length > 0), 5000, 'the recording')

const records = (): readonly SimCallRecord[] => gw.sim.ctx.engine.records()
const segments = (): SimCallRecord['segments'] => records().flatMap((r) => r.segments)

t.test('calls.history.get: one row per segment the simulator played, ext on either side', async (t) => {
  const res = await getReport(gw, 'calls.history.get', range)
  t.equal(res.statusCode, 200)
  const body = res.json() as { rows: Array<Record<string, unknown>>, count: number }
  t.equal(body.count, segments().length)
  t.same(body.rows.map((r) => r.SegmentId).sort(), segments().map((s) => s.segmentId).sort())
  const talk = body.rows.find((r) => r.CallAnswered === true && r.DstDn === AGENT)
  t.ok(talk !== undefined, 'the answered segment of 101')
  t.equal(talk?.CallTimeSeconds, Math.round((segments().find((s) => s.answered && s.dst.dn === AGENT)?.talkMs ?? 0) / 1000))
  t.match(talk?.SegmentStartTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/, 'ISO-8601 UTC')

  const only102 = (await getReport(gw, 'calls.history.get', { ...range, ext: DIRECT })).json() as { rows: Array<Record<string, unknown>>, count: number }
  t.equal(only102.count, segments().filter((s) => s.src.dn === DIRECT || s.dst.dn === DIRECT).length)
  t.ok(only102.count > 0 && only102.rows.every((r) => r.SrcDn === DIRECT || r.DstDn === DIRECT))
})

t.test('report.calllog.get: answered filter and extension filter', async (t) => {
  const all = (await getReport(gw, 'report.calllog.get', range)).json() as { rows: Array<Record<string, unknown>>, count: number }
  t.equal(all.count, segments().length)
  const yes = (await getReport(gw, 'report.calllog.get', { ...range, answered: 'on' })).json() as { rows: Array<Record<string, unknown>>, count: number }
  t.equal(yes.count, segments().filter((s) => s.answered).length)
  t.ok(yes.rows.every((r) => r.Answered === true))
  const no = (await getReport(gw, 'report.calllog.get', { ...range, answered: 'FALSE' })).json() as { rows: Array<Record<string, unknown>>, count: number }
  t.equal(no.count + yes.count, all.count)
  const talk = yes.rows.find((r) => r.CallId === answered && r.DestinationDn === AGENT)
  t.ok(talk !== undefined)
  t.ok(typeof talk?.TalkingDurationSeconds === 'number' && talk.TalkingDurationSeconds >= 1, 'talk time in seconds')
  const ext = (await getReport(gw, 'report.calllog.get', { ...range, ext: DIRECT })).json() as { rows: Array<Record<string, unknown>> }
  const with102 = records().filter((r) => r.segments.some((s) => s.src.dn === DIRECT || s.dst.dn === DIRECT)).map((r) => r.callid)
  t.ok(with102.includes(direct), 'the direct user answered its own call')
  // It rang on the queue's calls where the queue rings all its agents, not where it hunts and the first answers.
  t.equal(with102.includes(answered), PBX.firstRung(QUEUE).includes(DIRECT), 'rang on the answered queue call')
  t.same([...new Set(ext.rows.map((r) => r.CallId))].sort(), with102.sort())
})

t.test('report.abandoned.get: the abandoned queue call with its wait time', async (t) => {
  const rec = records().find((r) => r.callid === abandoned)
  const waitSeconds = Math.round((rec?.queue?.waitMs ?? 0) / 1000)
  t.ok(waitSeconds >= 1, `the caller waited ${waitSeconds} s`)
  const res = await getReport(gw, 'report.abandoned.get', { ...range, queue: QUEUE })
  const body = res.json() as { rows: Array<Record<string, unknown>>, count: number }
  t.equal(body.count, 1)
  t.match(body.rows[0], { CallerId: '+15557654322', QueueDn: QUEUE, CallHistoryId: String(abandoned), WaitTimeSeconds: waitSeconds })
  const longer = (await getReport(gw, 'report.abandoned.get', { ...range, queue: QUEUE, wait: waitSeconds + 5 })).json() as { count: number }
  t.equal(longer.count, 0, 'callers who waited less than `wait` are left out')
  const other = (await getReport(gw, 'report.abandoned.get', { ...range, queue: SUPPORT })).json() as { count: number }
  t.equal(other.count, 0)
})

t.test('report.queueperf.get: the queue received both calls, answered one', async (t) => {
  const body = (await getReport(gw, 'report.queueperf.get', { ...range, queue: `${QUEUE},${SUPPORT}`, wait: 0 })).json() as { rows: Array<Record<string, unknown>> }
  const agent101 = body.rows.find((r) => r.ExtensionDn === AGENT)
  t.match(agent101, { QueueDn: QUEUE, QueueReceivedCount: 2, QueueAnsweredCount: 1, ExtensionAnsweredCount: 1 })
  t.ok(typeof agent101?.TalkTimeSeconds === 'number' && agent101.TalkTimeSeconds >= 1)
  t.ok(body.rows.every((r) => r.QueueReceivedCount === 2), 'every agent row carries the queue totals')
})

t.test('recordings.list.get: the recorded leg, joined with the MP3 index', async (t) => {
  const body = (await getReport(gw, 'recordings.list.get', range)).json() as { rows: Array<Record<string, unknown>>, count: number }
  const played = records().flatMap((r) => r.recordings)
  t.equal(body.count, played.length)
  t.match(body.rows[0], { Id: played[0].Id, ToDn: AGENT, FromCallerNumber: '+15557654321' })
  t.equal(body.rows[0].Mp3Url, played[0].Id === 1 ? 'https://gw.example/recordings/tok/1.mp3' : null)
  const none = (await getReport(gw, 'recordings.list.get', { ...range, ext: DIRECT })).json() as { count: number }
  t.equal(none.count, 0)
})

t.test('every report in every format: same rows, a file name that says what and when', async (t) => {
  const reports: Array<[string, Record<string, string>, string]> = [
    ['calls.history.get', {}, 'SegmentId'],
    ['report.calllog.get', {}, 'SegmentId'],
    ['report.abandoned.get', { queue: QUEUE }, 'CallHistoryId'],
    ['report.queueperf.get', { queue: QUEUE }, 'ExtensionDn'],
    ['recordings.list.get', {}, 'Id']
  ]
  for (const [method, extra, key] of reports) {
    const json = await rowsOf(await getReport(gw, method, { ...range, ...extra }))
    t.ok(json.length > 0, `${method} has rows`)
    for (const format of ['csv', 'xlsx'] as const) {
      const res = await getReport(gw, method, { ...range, ...extra, format })
      t.equal(res.statusCode, 200)
      t.match(res.headers['content-disposition'], new RegExp(`^attachment; filename="[a-z]+(_q${QUEUE})?_${range.from}_${range.to}\\.${format}"$`))
      const rows = await rowsOf(res)
      t.equal(rows.length, json.length, `${method} ${format}: row count`)
      t.same(rows.map((r) => String(r[key])), json.map((r) => String(r[key])), `${method} ${format}: same rows in the same order`)
    }
  }
  const xlsx = await readXlsx((await getReport(gw, 'calls.history.get', { ...range, format: 'xlsx' })).rawPayload)
  t.ok(xlsx.rows.every((r) => r.SegmentStartTime instanceof Date), 'XLSX dates are dates')
  t.ok(xlsx.rows.every((r) => typeof r.CallTimeSeconds === 'number'), 'XLSX seconds are numbers')
  t.equal(xlsx.numFmt('CallTime'), '[h]:mm:ss')
  const csv = await getReport(gw, 'report.calllog.get', { ...range, format: 'CSV' })
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8')
  t.match(csv.headers['content-disposition'], `calllog_${range.from}_${range.to}.csv`)
})

t.test('the three key forms; no key is 401', async (t) => {
  const qs = `from=${range.from}&to=${range.to}&queue=${QUEUE}`
  for (const [url, headers] of [
    [`/webapi/${READ_KEY}/report.abandoned.get?${qs}`, {}],
    [`/report.abandoned.get?${qs}&key=${READ_KEY}`, {}],
    [`/report.abandoned.get?${qs}`, { 'x-api-key': READ_KEY }]
  ] as Array<[string, Record<string, string>]>) {
    const res = await gw.app.inject({ url, headers })
    t.equal(res.statusCode, 200, url.replace(READ_KEY, '…'))
    t.equal((res.json() as { count: number }).count, 1)
  }
  const res = await gw.app.inject({ url: `/calls.history.get?from=${range.from}&to=${range.to}` })
  t.equal(res.statusCode, 401)
  t.match(res.json(), { result: false, error: { code: 'UNAUTHORIZED' } })
})

t.test('top and skip pass through to the PBX', async (t) => {
  const all = await rowsOf(await getReport(gw, 'calls.history.get', range))
  const mark = gw.sim.ctx.requestLog.length
  const page = await rowsOf(await getReport(gw, 'calls.history.get', { ...range, top: 2, skip: 1 }))
  t.same(page.map((r) => r.SegmentId), all.slice(1, 3).map((r) => r.SegmentId))
  const sent = pbxRequests(gw, mark, 'CallHistoryView')
  t.equal(sent.length, 1)
  t.match(sent[0], /\$top=2&\$skip=1$/)
  t.equal((await rowsOf(await getReport(gw, 'calls.history.get', { ...range, top: 0 }))).length, 0)
})

t.test('bad input: the documented 400 with a sentence naming the parameter, and no PBX request', async (t) => {
  const mark = gw.sim.ctx.requestLog.length
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['calls.history.get', { to: range.to }, /"from" is required/],
    ['calls.history.get', { from: range.from }, /"to" is required/],
    ['report.calllog.get', { from: '2026-13-01', to: range.to }, /"from" .*is not a date/],
    ['report.calllog.get', { from: range.from, to: 'tomorrow' }, /"to" .*is not a date/],
    ['report.calllog.get', { from: '2026-11-07', to: '2026-11-01' }, /"to" .*must be after from/],
    ['report.calllog.get', { from: '2020-01-01', to: '2026-01-01' }, /"to" is more than 5 years after from/],
    ['report.calllog.get', { ...range, answered: 'maybe' }, /"answered" must be on or off/],
    ['calls.history.get', { ...range, ext: '10 1' }, /"ext" must be an extension number/],
    ['report.abandoned.get', { ...range }, /"queue" is required/],
    ['report.queueperf.get', { ...range, queue: '800;801' }, /"queue" must be queue numbers/],
    ['report.abandoned.get', { ...range, queue: QUEUE, wait: '-5' }, /"wait" must be a whole number/],
    ['report.abandoned.get', { ...range, queue: QUEUE, wait: '999999' }, /"wait" must be a whole number from 0 to 86400/],
    ['recordings.list.get', { ...range, top: '1.5' }, /"top" must be a whole number/],
    ['recordings.list.get', { ...range, skip: 'x' }, /"skip" must be a whole number/],
    ['recordings.list.get', { ...range, format: 'pdf' }, /"format" must be json, csv or xlsx/]
  ]
  for (const [method, query, message] of cases) {
    const res = await getReport(gw, method, query)
    t.equal(res.statusCode, 400, `${method} ${JSON.stringify(query)}`)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    const body = res.json() as { result: boolean, error: { code: string, message: string } }
    t.equal(body.result, false)
    t.equal(body.error.code, 'BAD_PARAMETER')
    t.match(body.error.message, message)
  }
  t.equal(pbxRequests(gw, mark, '').length, 0, 'nothing reached the PBX')
})

t.test('a PBX 403 is explained: the API client must have the System Owner role', async (t) => {
  const client = gw.sim.ctx.directory.apiClients[0]
  client.role = 'SystemAdmin'
  t.teardown(() => { client.role = 'SystemOwner' })
  for (const [method, extra] of [['calls.history.get', {}], ['report.calllog.get', {}], ['recordings.list.get', {}], ['report.abandoned.get', { queue: QUEUE }]] as const) {
    const res = await getReport(gw, method, { ...range, ...extra, format: 'csv' })
    t.equal(res.statusCode, 502, method)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', 'a JSON error, not a broken CSV')
    t.match(res.json(), { result: false, error: { code: 'PBX_FORBIDDEN', message: /the API client must have the System Owner role/ } })
  }
})
