// "Send test event" (the console's button, POST /webhooks/targets/{name}/test): one signed `test`
// event sent straight to a target, in its format and with its secrets, so an operator can check a
// receiver and its signature verification without waiting for a call. It bypasses the outbox: it
// is not retried, not in the delivery log, and sent even to a target disabled by 410.
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import type { WebhookTargetConfig } from '../config.js'
import { buildRequest } from './payload.js'
import { readExcerpt, safeError } from './delivery.js'

export interface TestPayload {
  event: 'test'
  /** Always `test`: receivers can tell it from a call's event. */
  id: string
  chid: string
  timestamp: string
  message: string
}

export interface TestResult {
  /** True when the receiver answered 2xx. */
  ok: boolean
  messageId: string
  statusCode: number | null
  durationMs: number
  error: string | null
  /** The start of the response body (at most 200 bytes). */
  excerpt: string | null
}

export function testPayload (at: Date): TestPayload {
  return { event: 'test', id: 'test', chid: 'test', timestamp: at.toISOString(), message: 'Test event sent from the 3cx-gateway console' }
}

/** Sends one test event to `target`; never throws (a failure is in the result). */
export async function sendTestEvent (target: WebhookTargetConfig, timeoutMs: number, now: () => number = Date.now): Promise<TestResult> {
  const started = now()
  const messageId = `msg_test_${randomUUID()}`
  const req = buildRequest(target, testPayload(new Date(started)), messageId, new Date(started))
  try {
    const res = await request(req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(timeoutMs) })
    const excerpt = await readExcerpt(res.body, Math.min(1000, timeoutMs))
    const ok = res.statusCode >= 200 && res.statusCode < 300
    return { ok, messageId, statusCode: res.statusCode, durationMs: now() - started, error: ok ? null : `HTTP ${res.statusCode}`, excerpt }
  } catch (err) {
    return { ok: false, messageId, statusCode: null, durationMs: now() - started, error: safeError(err), excerpt: null }
  }
}
