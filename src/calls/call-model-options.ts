// What the live call model (call-model.ts) is given: the PBX's time zone and grace period, where its
// events go, the lookups it asks the PBX with, the state store, and the clock.
import type { CallEvent } from './call-events.js'
import type { DidQuery } from './did-map.js'
import type { EndedLegStore } from './ended-legs.js'
import type { Clock } from '../clock.js'
import type { CallStateStore } from './call-ports.js'
import type { CallRecordLookup } from './pbx-call-record.js'
import type { UnseenCalls } from './unseen-calls.js'
import type { CallTimesLookup } from './pbx-call-times.js'

export interface CallModelOptions {
  /** PBX time zone for the legacy id's time prefix (`PBX_TIMEZONE`). */
  timeZone: string
  /** `CALL_END_GRACE_MS`. */
  graceMs: number
  /**
   * When the oldest change announced by 3CX but not fetched yet arrived (the Call Control client's
   * `oldestPendingUpsert`). A call's end waits while a change announced before its deadline is still
   * being fetched: on a slow PBX that change may be the transfer target that continues the call.
   */
  oldestPendingChange?: () => number | null
  /**
   * Since when the model's source cannot see the PBX (the Call Control client's `blindSince`): a
   * call's end due after that waits, without limit, for the snapshot that tells what happened.
   */
  blindSince?: () => number | null
  /** `WEBHOOK_INTERNAL_CALLS`: false suppresses the events of internal calls. */
  internalCalls: boolean
  /** Receives every derived event, in order. Must not throw (errors are logged and swallowed). */
  onEvent?: (e: CallEvent) => void
  didLookup?: (q: DidQuery) => string
  endedLegs?: EndedLegStore
  /** Keeps the calls in progress on disk; restore() resumes them at start. */
  stateStore?: CallStateStore
  /** The PBX's record of a call whose end the model did not see (without it: the model's own guess). */
  callRecords?: CallRecordLookup
  /** How long to wait for the PBX's record of such a call (3CX writes it after the call); default 20 s. */
  reconcileWaitMs?: number
  /** Notes every callid seen, so calls never seen (gaps in the PBX's counter) can be recovered. */
  unseen?: UnseenCalls
  /**
   * When calls first seen in a snapshot (already in progress) began and were answered, from the PBX;
   * also asked for calls the model knew that a snapshot shows answered meanwhile (during a gap).
   * Such a call's changes are held until it answers (at most callTimesWaitMs), so its chid and
   * durations are the PBX's, not the moment the gateway looked.
   */
  callTimes?: CallTimesLookup
  /** Default 3 s; then the call goes on with the times the gateway saw. */
  callTimesWaitMs?: number
  /** Changes that emit no event are written to the state store in batches, this often; default 250 ms. */
  stateFlushMs?: number
  /** Time and timers (grace periods, retries, batched writes); default the system clock. */
  clock?: Clock
  log?: { error: (obj: unknown, msg?: string) => void, warn?: (obj: unknown, msg?: string) => void }
}
