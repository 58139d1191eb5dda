// Long ranges: split into chunks of REPORT_MAX_RANGE_DAYS (the simulator, like a busy PBX, answers
// 504 to periods over 31 days), read in pages of REPORT_PAGE_SIZE, merged into one output.
import t from 'tap'
import { injectCallRecords } from '../../src/sim/xapi/record-source.js'
import { syntheticCallRecords } from '../../src/sim/xapi/synthetic-records.js'
import { getReport, pbxRequests, READ_KEY, rowsOf, startReportGateway } from './report-harness.js'
import { parseCsv } from './report-readers.js'

// 40 queue calls, one every 12 hours from 2026-01-01 06:00 UTC (20 days), 3 segments each; every
// 10th abandoned.
const CALLS = 40
const synthetic = syntheticCallRecords(CALLS, { from: new Date('2026-01-01T06:00:00Z'), spacingMs: 12 * 3600_000 })
const SEGMENTS = CALLS * 3

const gw = await startReportGateway(t, { REPORT_MAX_RANGE_DAYS: '7', REPORT_PAGE_SIZE: '10' })
injectCallRecords(gw.sim.ctx, synthetic)

/** The distinct `periodFrom`/`SegmentStartTime ge` values of requests: one per chunk. */
function chunkStarts (urls: string[]): string[] {
  return [...new Set(urls.map((u) => /(?:periodFrom=|SegmentStartTime ge )([0-9T:Z-]+)/.exec(u)?.[1] ?? '?'))]
}

t.test('a 20-day history is read as 3 chunks of at most 7 days, page by page, merged in order', async (t) => {
  const mark = gw.sim.ctx.requestLog.length
  const res = await getReport(gw, 'calls.history.get', { from: '2026-01-01', to: '2026-01-20' })
  t.equal(res.statusCode, 200)
  const rows = (res.json() as { rows: Array<Record<string, unknown>>, count: number }).rows
  t.equal(rows.length, SEGMENTS)
  t.same(rows.map((r) => r.SegmentId), synthetic.flatMap((c) => c.segments.map((s) => s.segmentId)).sort((a, b) => a - b), 'every segment once, in time order')
  const sent = pbxRequests(gw, mark, 'CallHistoryView')
  t.same(chunkStarts(sent), ['2026-01-01T00:00:00Z', '2026-01-08T00:00:00Z', '2026-01-15T00:00:00Z'])
  t.ok(sent.every((u) => /\$top=10&/.test(u)), 'bounded page size')
  t.equal(sent.length, 5 + 5 + 4, '42, 42 and 36 rows in pages of 10')
  t.ok(gw.sim.ctx.requestLog.slice(mark).every((r) => r.status === 200))
})

t.test('a 40-day call log, which the PBX refuses in one go, arrives whole in CSV', async (t) => {
  const mark = gw.sim.ctx.requestLog.length
  const res = await getReport(gw, 'report.calllog.get', { from: '2025-12-25', to: '2026-02-02', format: 'csv' })
  t.equal(res.statusCode, 200)
  const records = parseCsv(res.body)
  t.equal(records.filter((r) => r[0] === 'CallId').length, 1, 'one header row')
  t.equal(records.length - 1, SEGMENTS)
  t.equal(chunkStarts(pbxRequests(gw, mark, 'ReportCallLogData')).length, 6, '40 days in chunks of 7')
})

t.test('queue reports over several chunks', async (t) => {
  const mark = gw.sim.ctx.requestLog.length
  const abandoned = await rowsOf(await getReport(gw, 'report.abandoned.get', { from: '2026-01-01', to: '2026-01-20', queue: '800' }))
  t.equal(abandoned.length, CALLS / 10)
  t.same(abandoned.map((r) => r.CallHistoryId), synthetic.filter((c) => c.queue?.abandoned === true).map((c) => String(c.callid)))
  t.equal(chunkStarts(pbxRequests(gw, mark, 'ReportAbandonedQueueCalls')).length, 3)

  const perf = await rowsOf(await getReport(gw, 'report.queueperf.get', { from: '2026-01-01', to: '2026-01-20', queue: '800' }))
  t.equal(perf.length, 3, 'one row per agent, not one per agent and chunk')
  t.ok(perf.every((r) => r.QueueReceivedCount === CALLS && r.QueueAnsweredCount === CALLS - CALLS / 10), 'queue totals of the whole range')
  const answeredBy101 = synthetic.filter((c) => c.queue?.answeredBy === '101')
  const agent101 = perf.find((r) => r.ExtensionDn === '101')
  t.equal(agent101?.ExtensionAnsweredCount, answeredBy101.length)
  const talkSeconds = answeredBy101.reduce((s, c) => s + ((c.endedAt?.getTime() ?? 0) - (c.answeredAt?.getTime() ?? 0)) / 1000, 0)
  t.equal(agent101?.TalkTimeSeconds, talkSeconds, 'talk time summed across chunks')
})

t.test('top and skip across chunks select from the merged rows', async (t) => {
  const all = await rowsOf(await getReport(gw, 'calls.history.get', { from: '2026-01-01', to: '2026-01-20' }))
  for (const [skip, top] of [[40, 15], [0, 5], [84, 100], [119, 10], [200, 5], [45, 0]]) {
    const mark = gw.sim.ctx.requestLog.length
    const page = await rowsOf(await getReport(gw, 'calls.history.get', { from: '2026-01-01', to: '2026-01-20', skip, top }))
    t.same(page.map((r) => r.SegmentId), all.slice(skip, skip + top).map((r) => r.SegmentId), `skip=${skip} top=${top}`)
    if (skip > 0 && top > 0) t.ok(pbxRequests(gw, mark, 'CallHistoryView').some((u) => u.includes('$count=true')), 'asks for counts to skip whole chunks')
  }
  const perf = await rowsOf(await getReport(gw, 'report.queueperf.get', { from: '2026-01-01', to: '2026-01-20', queue: '800', skip: 1, top: 1 }))
  t.same(perf.map((r) => r.ExtensionDn), ['102'], 'merged queue rows are paged by the gateway')
})

t.test('without chunking the PBX gives up, and the caller is told to shorten the range', async (t) => {
  const wide = await startReportGateway(t, { REPORT_MAX_RANGE_DAYS: '60' })
  injectCallRecords(wide.sim.ctx, synthetic)
  const res = await getReport(wide, 'report.calllog.get', { from: '2025-12-25', to: '2026-02-02' })
  t.equal(res.statusCode, 504)
  t.match(res.json(), { result: false, error: { code: 'PBX_RANGE_TOO_LARGE', message: /range is too large/ } })
})

t.test('a PBX failure after the first page never looks like a complete answer', async (t) => {
  let lists = 0
  const flaky = await startReportGateway(t, { REPORT_MAX_RANGE_DAYS: '7', REPORT_PAGE_SIZE: '10' }, {
    beforeList: () => { if (++lists === 3) flaky.sim.ctx.faults.apply({ down: true }) }
  })
  injectCallRecords(flaky.sim.ctx, synthetic)
  for (const format of ['json', 'csv'] as const) {
    lists = 0
    flaky.sim.ctx.faults.apply({})
    const res = await flaky.app.inject({ url: `/calls.history.get?from=2026-01-01&to=2026-01-20&format=${format}`, headers: { 'x-api-key': READ_KEY } }).catch((err: Error) => err)
    if (res instanceof Error) {
      // Output had been flushed: the response is cut off, which every HTTP client reports.
      t.match(res.message, /destroyed|aborted|closed/, `${format}: the response was cut off`)
    } else {
      // Nothing flushed yet (JSON is sent in 64 KiB pieces): Fastify still answers a clean error.
      t.equal(res.statusCode, 503, `${format}: answered with the PBX error`)
      t.match(res.json(), { result: false, error: { code: 'PBX_UNREACHABLE' } })
    }
    t.equal(lists, 3, 'the failure came on the third page')
  }
  flaky.sim.ctx.faults.apply({})
})
