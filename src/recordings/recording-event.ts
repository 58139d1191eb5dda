// The `recording` webhook event (webhooks.md §1): the legacy id of the recorded leg and the links to
// its MP3 files in order; with RECORDING_FULL_INFO also every field of the leg's call-ended event.
import { eventOf, type CallEvent, type EndedPayload, type RecordingPayload } from '../calls/call-events.js'
import type { LegRow } from './recording-index.js'

/** The same for every repeat of one leg's announcement (a crash, two replicas): the event's natural key, from which the outbox derives its webhook id. */
export function announcementKey (leg: Pick<LegRow, 'legKey'>): string {
  return `recording:${leg.legKey}`
}

export function recordingEvent (leg: LegRow, links: readonly string[], fullInfo: boolean, now: number): CallEvent {
  const ended = fullInfo && leg.endedEvent !== null ? leg.endedEvent as Partial<EndedPayload> : {}
  const { event: _endedName, ...endedFields } = ended
  const payload: RecordingPayload = {
    ...endedFields,
    event: 'recording',
    id: leg.legacyId,
    FILES: [...links],
    chid: leg.chid,
    timestamp: new Date(now).toISOString()
  }
  if (leg.callerName !== null && leg.callerName !== '') payload.callername = leg.callerName
  // Target filters on extensions see the recorded extension even without the full info. The natural
  // key gives every announcement of this leg one webhook id, stored once (webhooks.md "Ids and repeats").
  return { ...eventOf(payload), user: leg.dn, key: announcementKey(leg) }
}
