// Fault injection state (simulator.md §3, POST /_sim/faults). The simulator's hooks read it on every
// request; the Call Control plugin listens for `dropWebSocket`.
import { EventEmitter } from 'node:events'

export interface FaultSettings {
  /** Share (0–1) of XAPI requests answered 500/503/504. */
  xapiErrorRate: number
  /** Added to every XAPI and Call Control REST response. */
  latencyMs: number
  /** The PBX is "down": every non-/_sim request has its connection reset, WebSockets are closed. */
  down: boolean
}

export class SimFaults extends EventEmitter {
  settings: FaultSettings = { xapiErrorRate: 0, latencyMs: 0, down: false }
  private downTimer: NodeJS.Timeout | null = null

  /** Applies a partial update; `{}` clears everything. Emits 'dropWebSocket', 'revokeTokens', 'down'. */
  apply (body: Partial<FaultSettings> & { dropWebSocket?: boolean, revokeTokens?: boolean, downForMs?: number }): FaultSettings {
    if (Object.keys(body).length === 0) {
      this.setDown(false)
      this.settings = { xapiErrorRate: 0, latencyMs: 0, down: false }
      return this.settings
    }
    if (body.xapiErrorRate !== undefined) this.settings.xapiErrorRate = body.xapiErrorRate
    if (body.latencyMs !== undefined) this.settings.latencyMs = body.latencyMs
    if (body.down !== undefined) this.setDown(body.down, body.downForMs)
    if (body.revokeTokens === true) this.emit('revokeTokens')
    if (body.dropWebSocket === true) this.emit('dropWebSocket')
    return this.settings
  }

  private setDown (down: boolean, forMs?: number): void {
    if (this.downTimer !== null) { clearTimeout(this.downTimer); this.downTimer = null }
    const changed = this.settings.down !== down
    this.settings.down = down
    if (changed) this.emit('down', down)
    if (down && forMs !== undefined && forMs > 0) {
      this.downTimer = setTimeout(() => { this.setDown(false) }, forMs)
      this.downTimer.unref()
    }
  }

  close (): void {
    if (this.downTimer !== null) clearTimeout(this.downTimer)
  }
}
