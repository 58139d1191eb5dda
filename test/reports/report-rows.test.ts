import t from 'tap'
import { durationSeconds, formatHms, isoDuration, normalizeRow, utcIso } from '../../src/reports/report-rows.js'
import { mergeQueuePerformance } from '../../src/reports/queue-performance-merge.js'
import { REPORTS, reportByName } from '../../src/reports/report-kinds.js'

t.test('durations: ISO-8601 and .NET TimeSpan text to seconds', async (t) => {
  t.equal(durationSeconds('PT1M5S'), 65)
  t.equal(durationSeconds('PT0S'), 0)
  t.equal(durationSeconds('PT2H'), 7200)
  t.equal(durationSeconds('P1DT1S'), 86_401)
  t.equal(durationSeconds('PT1.25S'), 1.25)
  t.equal(durationSeconds('-PT5S'), -5)
  t.equal(durationSeconds('01:02:03'), 3723)
  t.equal(durationSeconds('1.00:00:01.5'), 86_401.5)
  t.equal(durationSeconds(42), 42, 'a number is already seconds')
  for (const bad of [null, undefined, '', 'P', 'PT', 'P1DT', '5 minutes', {}]) t.equal(durationSeconds(bad), null, JSON.stringify(bad))
})

t.test('h:mm:ss and ISO durations for output', async (t) => {
  t.equal(formatHms(0), '0:00:00')
  t.equal(formatHms(3725), '1:02:05')
  t.equal(formatHms(90_000), '25:00:00', 'hours do not wrap')
  t.equal(isoDuration(0), 'PT0S')
  t.equal(isoDuration(65), 'PT1M5S')
  t.equal(isoDuration(7200), 'PT2H')
  t.equal(durationSeconds(isoDuration(3725.5)), 3725.5, 'round trip')
})

t.test('times become ISO-8601 UTC', async (t) => {
  t.equal(utcIso('2026-11-01T08:00:00.0000000+01:00'), '2026-11-01T07:00:00Z')
  t.equal(utcIso('2026-11-01T08:00:00.1239999Z'), '2026-11-01T08:00:00.123Z')
  t.equal(utcIso('2026-11-01T08:00:00'), '2026-11-01T08:00:00Z', 'no zone: 3CX means UTC')
  t.equal(utcIso('not a date'), 'not a date')
  t.equal(utcIso(null), null)
})

t.test('normalizeRow keeps every field in order, adds …Seconds after each duration', async (t) => {
  const row = normalizeRow(REPORTS.calllog, {
    '@odata.etag': 'x',
    CallId: 7,
    StartTime: '2026-11-01T08:00:00.0000000+01:00',
    RingingDuration: 'PT12S',
    TalkingDuration: 'PT1M5S',
    Extra: 'kept'
  })
  t.same(Object.keys(row), ['CallId', 'StartTime', 'RingingDuration', 'RingingDurationSeconds', 'TalkingDuration', 'TalkingDurationSeconds', 'Extra'])
  t.same(row, { CallId: 7, StartTime: '2026-11-01T07:00:00Z', RingingDuration: 'PT12S', RingingDurationSeconds: 12, TalkingDuration: 'PT1M5S', TalkingDurationSeconds: 65, Extra: 'kept' })
  t.same(normalizeRow(REPORTS.abandoned, { WaitTime: null }), { WaitTime: null, WaitTimeSeconds: null })
})

t.test('report names: CLI kind or API method', async (t) => {
  t.equal(reportByName('calllog')?.method, 'report.calllog.get')
  t.equal(reportByName('Report.Abandoned.Get')?.kind, 'abandoned')
  t.equal(reportByName('nope'), null)
  for (const def of Object.values(REPORTS)) {
    const names = def.columns.map((c) => c.name)
    t.equal(new Set(names).size, names.length, `${def.kind}: column names are unique`)
  }
})

t.test('queue performance chunks merge into one row per queue and agent', async (t) => {
  const row = (q: string, ext: string, received: number, answered: number, extAnswered: number, dropped: number, talk: string): Record<string, unknown> => ({
    QueueDn: q, QueueDisplayName: `Q${q}`, ExtensionDn: ext, ExtensionDisplayName: `E${ext}`, QueueReceivedCount: received, QueueAnsweredCount: answered, ExtensionAnsweredCount: extAnswered, ExtensionDroppedCount: dropped, TalkTime: talk, SortOrder: 0
  })
  const merged = mergeQueuePerformance([
    [row('800', '101', 3, 2, 2, 1, 'PT1M'), row('800', '102', 3, 2, 0, 3, 'PT0S')],
    [row('800', '101', 2, 1, 1, 0, 'PT30S'), row('800', '103', 2, 1, 0, 1, 'PT0S'), row('801', '104', 1, 1, 1, 0, 'PT5S')]
  ])
  t.same(merged.map((r) => [r.QueueDn, r.ExtensionDn, r.QueueReceivedCount, r.QueueAnsweredCount, r.ExtensionAnsweredCount, r.ExtensionDroppedCount, r.TalkTime]), [
    ['800', '101', 5, 3, 3, 1, 'PT1M30S'],
    ['800', '102', 5, 3, 0, 3, 'PT0S'],
    ['800', '103', 5, 3, 0, 1, 'PT0S'],
    ['801', '104', 1, 1, 1, 0, 'PT5S']
  ], 'queue totals summed once per chunk and repeated on every agent row')
  t.same(mergeQueuePerformance([[], []]), [])
})
