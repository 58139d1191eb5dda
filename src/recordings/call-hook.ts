// The call model's side of the pipeline: every call-ended event of an answered extension leg is a
// leg whose recording may come. The ended payload carries all the leg's ids and times.
import type { CallEvent, EndedPayload } from '../calls/call-events.js'
import { parseLegacyCallId } from '../calls/legacy-call-id.js'
import type { EndedLeg } from './recording-index.js'

/**
 * The leg to look for, from a call event; null for events that cannot have a recording (not an
 * ended event, a missed call). The event's participant ids are the identity its files are matched by.
 */
export function legFromCallEvent (e: CallEvent): EndedLeg | null {
  if (e.type !== 'ended') return null
  const p = e.payload as EndedPayload
  if (p.finishtype !== 'Ok') return null
  const parsed = parseLegacyCallId(p.id)
  const endedAt = Date.parse(p.timestamp)
  if (parsed === null || Number.isNaN(endedAt)) return null
  return {
    callid: parsed.callid,
    chid: p.chid,
    legacyId: p.id,
    dn: p.user,
    participantIds: [...e.participants ?? []],
    startedAt: endedAt - Math.max(0, p.duration) * 1000,
    endedAt,
    callerName: p.callername,
    endedEvent: { ...p }
  }
}
