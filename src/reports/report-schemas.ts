// JSON schemas of the report routes: the querystring each report takes (documented at /docs; the
// patterns match what report-params.ts accepts) and the three content types of a 200.
import { type ColumnType, type ReportDefinition } from './report-kinds.js'
import { DN_PATTERN, MAX_TOP, MAX_WAIT_SECONDS, ON_OFF_PATTERN, QUEUE_LIST_PATTERN } from './report-params.js'

const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?([Zz]|[+-]\\d{2}:?\\d{2})?)?$'
const COUNT_PATTERN = '^\\d{1,16}$'

const text = (description: string, pattern: string, example: string): object =>
  ({ type: 'string', pattern, description, examples: [example] })

const PARAMS: Readonly<Record<'from' | 'to' | 'ext' | 'answered' | 'queue' | 'wait' | 'top' | 'skip' | 'format', object>> = {
  from: text('Start: a date (its whole day) or a date-time, in PBX_TIMEZONE unless it has Z or an offset.', TIME_PATTERN, '2026-11-01'),
  to: text('End: a date (included: the whole day) or a date-time (excluded), in PBX_TIMEZONE unless it has Z or an offset.', TIME_PATTERN, '2026-11-07'),
  ext: text('Only calls where this extension is the source or the destination.', DN_PATTERN, '101'),
  answered: text('on: answered calls only; off: unanswered calls only (also 1/0, true/false).', ON_OFF_PATTERN, 'on'),
  queue: text('Queue number, or several separated by commas.', QUEUE_LIST_PATTERN, '800'),
  wait: text(`Only callers who waited at least this many seconds (0–${MAX_WAIT_SECONDS}; default 0).`, COUNT_PATTERN, '30'),
  top: text(`At most this many rows (0–${MAX_TOP}); without it every row is returned.`, COUNT_PATTERN, '100'),
  skip: text('Leave out this many rows first.', COUNT_PATTERN, '0'),
  format: { type: 'string', enum: ['json', 'csv', 'xlsx', 'JSON', 'CSV', 'XLSX'], default: 'json', description: 'json (default), csv or xlsx.' }
}

export function reportQuerystring (def: ReportDefinition): object {
  const names = ['from', 'to', ...def.params, 'top', 'skip', 'format'] as const
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, PARAMS[n]])),
    required: ['from', 'to', ...(def.params.includes('queue') ? ['queue'] : [])]
  }
}

const JSON_TYPES: Readonly<Record<ColumnType, object>> = {
  text: { type: ['string', 'null'] },
  number: { type: ['number', 'null'] },
  seconds: { type: ['number', 'null'] },
  boolean: { type: ['boolean', 'null'] },
  datetime: { type: ['string', 'null'], format: 'date-time' },
  duration: { type: ['string', 'null'], description: 'ISO-8601 duration, e.g. PT1M5S' },
  json: {}
}

/** 200 as JSON (rows with every column), CSV or XLSX, plus the given error answers. */
export function reportResponses (def: ReportDefinition, errors: Readonly<Record<number, object>>): object {
  const row = { type: 'object', properties: Object.fromEntries(def.columns.map((c) => [c.name, JSON_TYPES[c.type]])), additionalProperties: true }
  return {
    200: {
      description: 'The rows, streamed. CSV and XLSX come as an attachment named after the report and its days.',
      content: {
        'application/json': { schema: { type: 'object', properties: { rows: { type: 'array', items: row }, count: { type: 'integer' } } } },
        'text/csv': { schema: { type: 'string' } },
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: { type: 'string', format: 'binary' } }
      }
    },
    ...errors
  }
}
