// What the live call model exposes to the API routes (legacy-api.md §3.1, ext.state.get, queue.talk.get).
// Everything here is answered from memory: no PBX round trip per request.
import type { ParticipantStatus } from '../pbx/callcontrol-types.js'

/** Lower-case DN type without 3CX's `W` prefix: extension, queue, ringgroup, ivr, externalline, routepoint … */
export type LegacyDnType = string

export interface LiveLeg {
  dn: string
  dnType: LegacyDnType
  participantId: number
  status: ParticipantStatus
  /** The other party as the legacy API shows it (`externalParty`): caller id, or the other extension. */
  externalParty: string
  callerName: string
  firstSeenAt: number
  connectedAt: number | null
}

export type CallDirection = 'FromExternal' | 'FromInternal' | 'Inbound' | 'Outbound' | 'External' | 'Internal'
export type CallState = 'Unknown' | 'Initiating' | 'Routing' | 'Talking' | 'Transferring' | 'Rerouting'

/**
 * A transfer in progress. `consultation`: an attended transfer's consultation call, `by` talks to
 * (or rings) `target` while the customer waits on hold (3CX V20 shows no Held status: the hold is
 * known from the consultation legs). `blind`: `target` rings for a blind transfer by `by`.
 */
export interface LiveTransfer {
  kind: 'consultation' | 'blind'
  by: string
  target: string
}

export interface LiveCall {
  callid: number
  /** Call-chain id, the same in every webhook of this call and in makecall's answer. */
  chid: string
  /** Current legacy call id `YYMMDDhhmmss_N-L`. */
  legacyId: string
  direction: CallDirection
  /** DID rule name for calls from an external line, else ''. */
  did: string
  state: CallState
  /** The transfer going on, or null. */
  transfer: LiveTransfer | null
  startedAt: number
  answeredAt: number | null
  legs: readonly LiveLeg[]
}

export interface CallModelView {
  list(): readonly LiveCall[]
  size(): number
  /** The DN has a leg in any call (dialling, ringing or connected). */
  isBusy(dn: string): boolean
  /** The DN has a Connected leg (in a conversation). */
  isTalking(dn: string): boolean
  /**
   * Ids for a call the gateway itself just placed (makecall): registers the callid so the webhooks
   * of that call carry the same chid and legacy id. A standby replica asks the stream holder, whose
   * model announces the webhooks (replicas/call-id-requests.ts): null when it did not answer in time.
   */
  reserve(callid: number, at: number): { chid: string, legacyId: string } | Promise<{ chid: string, legacyId: string } | null>
  /**
   * Whether reserve() can answer now (false: a standby that knows no stream holder). makecall asks
   * before it places the call. Absent: always.
   */
  canReserve?(): boolean
  /** Runs `listener` after every change of list(); returns the unsubscribe (absent: a fixed list). */
  onChange?(listener: () => void): () => void
}
