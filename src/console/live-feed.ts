// The console's live calls (and queue waits) over Server-Sent Events: the full list at once, then again
// after every change of the live call model (changes within `coalesceMs` sent as one), and a
// comment line every `heartbeatMs` so proxies keep the connection open. No PBX request is made.
import type { CallModelView } from '../calls/live-call.js'
import { liveSnapshot } from './live-view.js'

/** One SSE message. Data is JSON: one line, so no `data:` continuation is needed. */
export function sseMessage (event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export interface LiveFeedOptions {
  coalesceMs?: number
  heartbeatMs?: number
  now?: () => number
}

export class LiveFeed {
  private unsubscribe: (() => void) | null = null
  private pending: NodeJS.Timeout | null = null
  private heartbeat: NodeJS.Timeout | null = null
  private readonly now: () => number

  constructor (private readonly calls: CallModelView, private readonly write: (text: string) => void, private readonly opts: LiveFeedOptions = {}) {
    this.now = opts.now ?? Date.now
  }

  start (): void {
    this.send()
    this.unsubscribe = this.calls.onChange?.(() => { this.schedule() }) ?? null
    this.heartbeat = setInterval(() => { this.write(': keep-alive\n\n') }, this.opts.heartbeatMs ?? 20_000)
    this.heartbeat.unref()
  }

  stop (): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    if (this.pending !== null) clearTimeout(this.pending)
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.pending = this.heartbeat = null
  }

  private schedule (): void {
    if (this.pending !== null) return
    this.pending = setTimeout(() => {
      this.pending = null
      this.send()
    }, this.opts.coalesceMs ?? 100)
  }

  /** `now` lets the page tick durations against the server's clock. */
  private send (): void {
    this.write(sseMessage('calls', liveSnapshot(this.calls.list(), this.now())))
  }
}
