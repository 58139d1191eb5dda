// The queue callback reports over the engine's call records: ReportQueueCallbacks (per queue: calls
// received, callbacks requested, callbacks that failed) and ReportQueueFailedCallbacks (one row per
// failed callback). A callback failed when nobody could call back (no agent, or the agent can no
// longer call out) or the callback call ended unanswered; one still ringing has not failed yet.
// Field meanings not documented by 3CX (`Dn`) are the simulator's reading; see docs/simulator.md.
import type { SimCallRecord } from '../sim-types.js'
import type { Row } from './odata-filter.js'
import type { ParamSpec, ParamValues } from './function-params.js'
import { isoDuration } from './call-rows.js'
import { dnList, inWindow, type ReportDirectory, type ReportFunction } from './report-rows.js'

const CALLBACK_PARAMS: ParamSpec = { queueDnStr: 'string', startDt: 'datetime', endDt: 'datetime' }

type QueueRecord = SimCallRecord & { queue: NonNullable<SimCallRecord['queue']> }

function queueRecords (records: readonly SimCallRecord[], p: ParamValues): QueueRecord[] {
  const wanted = dnList(p.queueDnStr)
  return inWindow(records, p.startDt as Date, p.endDt as Date)
    .filter((r): r is QueueRecord => r.queue !== null && (wanted.length === 0 || wanted.includes(r.queue.dn)))
}

/** The callback call's record, when one was placed and is still kept. */
function callbackCall (records: readonly SimCallRecord[], r: QueueRecord): SimCallRecord | undefined {
  const callid = r.queue.callback?.callid
  return callid === null || callid === undefined ? undefined : records.find((c) => c.callid === callid)
}

function failed (records: readonly SimCallRecord[], r: QueueRecord): boolean {
  if (r.queue.callback === undefined) return false
  if (r.queue.callback.callid === null) return true
  const call = callbackCall(records, r)
  return call !== undefined && call.status === 'ended' && call.answeredAt === null
}

function callbacks (records: readonly SimCallRecord[], p: ParamValues, dir: ReportDirectory): Row[] {
  const byQueue = new Map<string, QueueRecord[]>()
  for (const r of queueRecords(records, p)) byQueue.set(r.queue.dn, [...(byQueue.get(r.queue.dn) ?? []), r])
  return [...byQueue].sort(([a], [b]) => a.localeCompare(b)).map(([dn, list]) => ({
    QueueDnNumber: dn,
    Dn: dir.queueName(dn),
    ReceivedCount: list.length,
    CallbacksCount: list.filter((r) => r.queue.callback !== undefined).length,
    FailCallbacksCount: list.filter((r) => failed(records, r)).length
  }))
}

function failedCallbacks (records: readonly SimCallRecord[], p: ParamValues): Row[] {
  return queueRecords(records, p).filter((r) => failed(records, r)).map((r) => {
    const call = callbackCall(records, r)
    return {
      CallbackNo: r.from,
      CallTime: r.startedAt.toISOString(),
      // The extension that was to call back; the queue when nobody could.
      Dn: call?.from ?? r.queue.dn,
      QueueDnNumber: r.queue.dn,
      RingTime: isoDuration(call?.endedAt == null ? 0 : call.endedAt.getTime() - call.startedAt.getTime())
    }
  })
}

export const QUEUE_CALLBACK_REPORTS: readonly ReportFunction[] = [
  { entitySet: 'ReportQueueCallbacks', name: 'Pbx.GetQueueCallbacksData', typeName: 'Pbx.QueueCallbacks', params: CALLBACK_PARAMS, rows: callbacks },
  { entitySet: 'ReportQueueFailedCallbacks', name: 'Pbx.GetQueueFailedCallbacksData', typeName: 'Pbx.QueueFailedCallbacks', params: CALLBACK_PARAMS, rows: (records, p) => failedCallbacks(records, p) }
]
