// Chain ids handed out by makecall before the call's first participant arrives: the call keeps the
// id the caller was told. A reservation no participant claims expires (checked on each new one).
import type { Clock } from '../clock.js'
import { chainId, legacyTimePrefix } from './legacy-call-id.js'

/** How long a makecall reservation waits for its first participant. */
const RESERVATION_TTL_MS = 120_000

export class CallReservations {
  private readonly reserved = new Map<number, { chid: string, until: number }>()

  constructor (private readonly clock: Clock, private readonly timeZone: string) {}

  /** The chain id of call `callid` made at `at`: the one reserved before, or a new reservation. */
  reserve (callid: number, at: number): string {
    const now = this.clock.now()
    for (const [id, r] of this.reserved) if (r.until < now) this.reserved.delete(id)
    let r = this.reserved.get(callid)
    if (r === undefined) {
      r = { chid: chainId(legacyTimePrefix(at, this.timeZone), callid), until: now + RESERVATION_TTL_MS }
      this.reserved.set(callid, r)
    }
    return r.chid
  }

  has (callid: number): boolean {
    return this.reserved.has(callid)
  }

  /** Claims the call's reserved chain id (its first participant arrived). */
  take (callid: number): string | undefined {
    const r = this.reserved.get(callid)
    this.reserved.delete(callid)
    return r?.chid
  }
}
