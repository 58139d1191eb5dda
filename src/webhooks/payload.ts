// How one event goes over the wire to one target: JSON (default), form, or the legacy GET scheme
// (fields in the query string, FILES as repeated parameters), with the target's event names and,
// when it has secrets, Standard Webhooks signatures. For GET the signed content is the query string.
import type { WebhookTargetConfig, WebhookEventNames } from '../config.js'
import type { WebhookPayload } from '../calls/call-events.js'
import { signatureHeaders } from './signature.js'
import type { TestPayload } from './test-event.js'

export interface OutgoingRequest {
  method: 'POST' | 'GET'
  url: string
  headers: Record<string, string>
  body: string | null
}

const PICKUP_NAMES: Record<string, string> = { hangupincoming: 'pickupincoming', hangupoutgoing: 'pickupoutgoing' }

/** The payload with the target's event names (`pickup` renames the call-started events). */
export function withEventNames (payload: WebhookPayload | TestPayload, names: WebhookEventNames): Record<string, unknown> {
  if (names === 'pickup' && payload.event in PICKUP_NAMES) return { ...payload, event: PICKUP_NAMES[payload.event] }
  return { ...payload }
}

/** Fields as form / query parameters: arrays repeat their key, everything else is a string. */
export function toSearchParams (fields: Record<string, unknown>): URLSearchParams {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue
    if (Array.isArray(v)) for (const item of v) params.append(k, String(item))
    else params.append(k, String(v))
  }
  return params
}

export const USER_AGENT = '3cx-gateway'

export function buildRequest (target: WebhookTargetConfig, payload: WebhookPayload | TestPayload, messageId: string, at: Date): OutgoingRequest {
  const fields = withEventNames(payload, target.eventNames)
  const headers: Record<string, string> = { 'user-agent': USER_AGENT }
  let method: OutgoingRequest['method'] = 'POST'
  let url = target.url
  let body: string | null
  let signed: string
  if (target.format === 'get') {
    method = 'GET'
    signed = toSearchParams(fields).toString()
    url += (url.includes('?') ? '&' : '?') + signed
    body = null
  } else if (target.format === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = signed = toSearchParams(fields).toString()
  } else {
    headers['content-type'] = 'application/json'
    body = signed = JSON.stringify(fields)
  }
  if (target.secrets.length > 0) Object.assign(headers, signatureHeaders(target.secrets, messageId, at, signed))
  return { method, url, headers, body }
}
