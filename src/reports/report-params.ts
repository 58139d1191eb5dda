// Report parameters as a person types them (query string or command line) → a validated
// ReportRequest. One implementation for the routes and the export command, so both accept and
// refuse the same things with the same sentences (ReportInputError names the parameter).
import type { ReportRequest } from './report-fetch.js'
import { ReportInputError } from './report-input-error.js'
import { REPORT_FORMATS, type ReportDefinition, type ReportFormat } from './report-kinds.js'
import type { ReportFilters } from './report-queries.js'
import { resolveRange } from './report-range.js'
import { DN_PATTERN, ON_OFF_PATTERN, parseOnOff } from '../legacy/params.js'

export interface ReportParamsInput {
  from?: string
  to?: string
  ext?: string
  answered?: string
  queue?: string
  wait?: string
  top?: string
  skip?: string
  format?: string
}

export interface ParsedReportParams {
  request: ReportRequest
  format: ReportFormat
}

/** Patterns the routes' JSON schemas share with this parser (DNs and on/off as in legacy-api.md §2). */
export { DN_PATTERN, ON_OFF_PATTERN }
export const QUEUE_LIST_PATTERN = '^[A-Za-z0-9*#+]{1,20}( *, *[A-Za-z0-9*#+]{1,20}){0,49}$'
export const MAX_WAIT_SECONDS = 86_400
export const MAX_TOP = 10_000_000
/** 3CX refuses a `$skip` past a 32-bit integer (and nobody pages that far): the same bound as `top`. */
export const MAX_SKIP = MAX_TOP

const DN = new RegExp(DN_PATTERN)
const QUEUE_LIST = new RegExp(QUEUE_LIST_PATTERN)
const ON_OFF = new RegExp(ON_OFF_PATTERN)

/** Validates the parameters of one report. Throws ReportInputError on the first problem. */
export function parseReportParams (def: ReportDefinition, input: ReportParamsInput, timeZone: string, maxSpanDays?: number): ParsedReportParams {
  const range = resolveRange(input.from, input.to, timeZone, maxSpanDays)
  const filters: ReportFilters = {}
  const takes = (p: ReportDefinition['params'][number]): boolean => def.params.includes(p)

  if (takes('ext') && given(input.ext)) {
    if (!DN.test(input.ext)) throw new ReportInputError('ext', 'must be an extension number: 1–20 characters of A–Z, a–z, 0–9, *, # or +')
    filters.ext = input.ext
  }
  if (takes('answered') && given(input.answered)) {
    if (!ON_OFF.test(input.answered)) throw new ReportInputError('answered', 'must be on or off (also 1/0, true/false): on for answered calls only, off for unanswered calls only')
    filters.answered = parseOnOff(input.answered)
  }
  if (takes('queue')) {
    if (!given(input.queue)) throw new ReportInputError('queue', 'is required: the queue number, or several separated by commas (e.g. 800 or 800,801)')
    if (!QUEUE_LIST.test(input.queue)) throw new ReportInputError('queue', 'must be queue numbers separated by commas (e.g. 800,801): each 1–20 characters of A–Z, a–z, 0–9, *, # or +, at most 50')
    filters.queues = input.queue.split(',').map((q) => q.trim())
  }
  if (takes('wait') && given(input.wait)) {
    filters.waitSeconds = wholeNumber('wait', input.wait, MAX_WAIT_SECONDS, 'seconds a caller waited, e.g. 30')
  }

  const request: ReportRequest = { kind: def.kind, range, filters }
  if (given(input.top)) request.top = wholeNumber('top', input.top, MAX_TOP, 'rows to return')
  if (given(input.skip)) request.skip = wholeNumber('skip', input.skip, MAX_SKIP, 'rows to leave out first')
  return { request, format: parseFormat(input.format) }
}

export function parseFormat (text: string | undefined): ReportFormat {
  if (!given(text)) return 'json'
  const f = REPORT_FORMATS.find((x) => x === text.toLowerCase())
  if (f === undefined) throw new ReportInputError('format', `must be json, csv or xlsx (got "${text.slice(0, 20)}")`)
  return f
}

function given (v: string | undefined): v is string {
  return v !== undefined && v.trim() !== ''
}

function wholeNumber (param: string, text: string, max: number, what: string): number {
  const t = text.trim()
  const n = Number(t)
  if (!/^\d{1,16}$/.test(t) || n > max) throw new ReportInputError(param, `must be a whole number from 0 to ${max}: ${what}`)
  return n
}
