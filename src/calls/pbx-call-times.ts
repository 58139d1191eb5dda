// When calls the gateway first saw in a snapshot (after start-up, a WebSocket reconnect, a catch-up)
// really began and were answered, from the PBX's list of calls in progress (XAPI `ActiveCalls`,
// 3cx-v20.md §4.1: `EstablishedAt`, `LastChangeStatus`, `ServerNow`). Call Control carries no times,
// so without this such a call would be dated from the moment the gateway looked. `ActiveCall.Id` is
// taken to be the Call Control `callid` (as in the simulator; unverified on a live PBX): a call not
// found keeps the observed times. A call that ended before the question (ActiveCalls lists only
// calls in progress) is dated from its call-log record instead (callTimesOfRecord).
import type { XapiApi } from '../pbx/pbx-api.js'
import type { PbxCallRecord } from './pbx-call-record.js'

/** `Pbx.ActiveCall` as far as it is read here. */
export interface ActiveCallRow {
  Id?: number | null
  Status?: string | null
  EstablishedAt?: string | null
  LastChangeStatus?: string | null
  ServerNow?: string | null
}

export interface PbxCallTimes {
  /** When the call reached the PBX (gateway clock, ms). */
  startedAt: number
  /** When it was answered, if it is talking (gateway clock, ms). */
  answeredAt: number | null
}

/** The PBX's times of these calls in progress; calls it does not list are absent. */
export type CallTimesLookup = (callids: readonly number[]) => Promise<Map<number, PbxCallTimes>>

/**
 * Rows → times on the gateway's clock: each row's `ServerNow` is matched with `localNow` (the
 * middle of the request), so a PBX clock that is off does not change durations.
 */
export function callTimesOf (rows: readonly ActiveCallRow[], localNow: number): Map<number, PbxCallTimes> {
  const out = new Map<number, PbxCallTimes>()
  for (const r of rows) {
    const started = Date.parse(r.EstablishedAt ?? '')
    if (typeof r.Id !== 'number' || Number.isNaN(started)) continue
    const serverNow = Date.parse(r.ServerNow ?? '')
    const shift = Number.isNaN(serverNow) ? 0 : localNow - serverNow
    const changed = Date.parse(r.LastChangeStatus ?? '')
    const talking = /talk|connect/i.test(r.Status ?? '')
    out.set(r.Id, { startedAt: started + shift, answeredAt: talking && !Number.isNaN(changed) && changed >= started ? changed + shift : null })
  }
  return out
}

/**
 * The times of a call that is over, from its call-log record: when it began, and its first answer
 * (the conversation ActiveCalls' `LastChangeStatus` would have dated). Null without its origin.
 * The call log carries no `ServerNow`: these are on the PBX's clock.
 */
export function callTimesOfRecord (record: PbxCallRecord): PbxCallTimes | null {
  if (record.origin === undefined) return null
  const first = record.conversations.find((c) => c.returned !== true)
  return { startedAt: record.origin.startedAt, answeredAt: first?.answeredAt ?? null }
}

export function createCallTimesLookup (xapi: XapiApi, opts: { timeoutMs?: number, now?: () => number } = {}): CallTimesLookup {
  const now = opts.now ?? Date.now
  return async (callids) => {
    const sent = now()
    const page = await xapi.list<ActiveCallRow>('ActiveCalls', { query: { select: ['Id', 'Status', 'EstablishedAt', 'LastChangeStatus', 'ServerNow'] }, timeoutMs: opts.timeoutMs ?? 2500 })
    const all = callTimesOf(page.value, (sent + now()) / 2)
    const wanted = new Set(callids)
    for (const id of all.keys()) if (!wanted.has(id)) all.delete(id)
    return all
  }
}
