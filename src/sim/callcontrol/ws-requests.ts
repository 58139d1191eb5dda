// Requests over the Call Control WebSocket (3cx-v20.md §6.4, CCX `types.ts`): a client may send
// `{"RequestID","Path","RequestData":{"Destination","Reason","Timeout","AttachedData"}}` instead of an
// HTTP request; the PBX answers on the same socket with an event of type 4 whose `attached_data`
// is a `WebSocketResponse {RequestID, Path, StatusCode, Response}`. The simulator plays each request
// as the REST request it stands for (GET without RequestData, POST with it as the JSON body), with
// the socket's own token, so visibility, refusals and errors are exactly those of the REST side.
import type { WsEventMessage } from '../../pbx/callcontrol-types.js'

/** Event type of a response to a request sent over the WebSocket. */
export const WS_RESPONSE_EVENT = 4

/** The REST request a WebSocket request stands for, or why it cannot be played. */
export type WsRequestPlan =
  | { ok: true, requestId: string | undefined, path: string, method: 'GET' | 'POST', body?: Record<string, unknown> }
  | { ok: false, requestId: string | undefined, path: string, status: number, message: string }

/** RequestData's PascalCase fields → the REST body's lowercase ones. */
const BODY_FIELDS: Readonly<Record<string, string>> = {
  Destination: 'destination', Reason: 'reason', Timeout: 'timeout', AttachedData: 'attacheddata'
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Reads one WebSocket text message as a request (pure). */
export function planWsRequest (text: string): WsRequestPlan {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return { ok: false, requestId: undefined, path: '', status: 400, message: 'a WebSocket request must be a JSON object {"RequestID","Path","RequestData"?}' }
  }
  const requestId = isRecord(message) && typeof message.RequestID === 'string' ? message.RequestID : undefined
  const path = isRecord(message) && typeof message.Path === 'string' ? message.Path : ''
  const refuse = (status: number, why: string): WsRequestPlan => ({ ok: false, requestId, path, status, message: why })
  if (!isRecord(message)) return refuse(400, 'a WebSocket request must be a JSON object {"RequestID","Path","RequestData"?}')
  if (!path.startsWith('/callcontrol')) return refuse(400, 'Path must be a Call Control path such as /callcontrol/101/participants')
  if (/^\/callcontrol\/ws\/?(\?|$)/.test(path)) return refuse(400, 'the WebSocket itself cannot be requested over the WebSocket')
  if (/\/stream\/?(\?|$)/.test(path)) return refuse(400, 'audio streams are served over HTTP only (GET/POST …/stream)')
  const data = message.RequestData
  if (data === undefined || data === null) return { ok: true, requestId, path, method: 'GET' }
  if (!isRecord(data)) return refuse(400, 'RequestData must be an object {"Destination","Reason","Timeout","AttachedData"}')
  const body: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(data)) {
    const field = BODY_FIELDS[key] ?? BODY_FIELDS[key.charAt(0).toUpperCase() + key.slice(1)]
    if (field === undefined) return refuse(400, `RequestData has an unknown field '${key}' (Destination, Reason, Timeout, AttachedData)`)
    if (value !== undefined && value !== null) body[field] = value
  }
  return { ok: true, requestId, path, method: 'POST', body }
}

/** The type-4 event that answers a request (sent to the requesting socket only). */
export function wsResponse (sequence: number, plan: WsRequestPlan, statusCode: number, response: unknown): WsEventMessage {
  return {
    sequence,
    event: {
      event_type: WS_RESPONSE_EVENT,
      entity: plan.path,
      attached_data: { RequestID: plan.requestId, Path: plan.path, StatusCode: statusCode, Response: response }
    }
  }
}
