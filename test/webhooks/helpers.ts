// Test helpers for the webhook tests: temp DATA_DIRs, targets and events.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { WebhookTargetConfig } from '../../src/config.js'
import { eventOf, type CallEvent } from '../../src/calls/call-events.js'

export function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-webhooks-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function target (name: string, url: string, extra: Partial<WebhookTargetConfig> = {}): WebhookTargetConfig {
  return { name, url, format: 'json', eventNames: 'legacy', secrets: [], events: [], extensions: [], didRules: [], ...extra }
}

/** A ringing event of call `callid` with a sequence number in `callerid` (to check order). */
export function ringing (callid: number, seq: number, user = '101'): CallEvent {
  const chid = `261121083716_${callid}`
  return eventOf({ event: 'ringing', callerid: String(seq), did: 'Sales line', user, usertype: 'ext', id: `${chid}-0`, chid, timestamp: new Date().toISOString() })
}

export const SECRET_A = 'whsec_' + Buffer.alloc(32, 1).toString('base64')
export const SECRET_B = 'whsec_' + Buffer.alloc(32, 2).toString('base64')

export const FAST = { timeoutMs: 2000, retrySchedule: [0, 50, 100], maxAgeMs: 60_000, concurrency: 8 }

/** Waits (polling every 10 ms, at most `timeoutMs`) until `check` is true. */
export async function until (check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
