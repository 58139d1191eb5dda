// Wire shapes of 3CX V20's Call Control API (REST + WebSocket). There is no OpenAPI file for it;
// these follow 3CX's docs and the official call-control-examples (see docs/3cx-v20.md §5–6).
// Call Control JSON is snake_case; empty values are "" and "None", not null.

/** Participant status: V20 knows only these three (no Hold/Held). */
export type ParticipantStatus = 'Dialing' | 'Ringing' | 'Connected'

/** DN types as Call Control spells them: 'W' + lower-case name. Unknown values pass through. */
export type CallControlDnType =
  | 'Wextension' | 'Wqueue' | 'Wringgroup' | 'Wivr' | 'Wroutepoint' | 'Wexternalline'
  | 'Wspecialmenu' | 'Wparking' | 'Wconference' | 'Wfax' | 'None' | (string & {})

export interface CallParticipant {
  id: number
  status: ParticipantStatus
  dn: string
  party_caller_name: string
  party_dn: string
  party_caller_id: string
  party_did: string
  device_id: string
  party_dn_type: CallControlDnType
  direct_control: boolean
  originated_by_dn: string
  originated_by_type: CallControlDnType
  referred_by_dn: string
  referred_by_type: CallControlDnType
  on_behalf_of_dn: string
  on_behalf_of_type: CallControlDnType
  callid: number
  legid: number
}

export interface DNDevice {
  dn: string
  device_id: string
  user_agent: string
}

export interface DNInfo {
  dn: string
  type: CallControlDnType
  devices: DNDevice[]
  participants: CallParticipant[]
}

/** `event_type` numbers; the sources disagree beyond 0 and 1, so unknown values are ignored. */
export const CallControlEventType = {
  Upsert: 0,
  Remove: 1,
  DtmfString: 2,
  PromptPlaybackFinished: 3,
  Response: 4
} as const

/** One WebSocket message from `/callcontrol/ws`. No data, no timestamp: fetch the entity. */
export interface WsEventMessage {
  sequence: number
  event: {
    event_type: number
    entity: string
    attached_data: unknown
  }
}

/** `CallRequestStatus`: Failed -1, Rejected 0, Success 1. Real PBXs may send it as a string. */
export interface CallControlResult {
  finalstatus: number | string
  reason: string
  reasontext: string
  result?: CallParticipant | null
}

/** Body of makecall and of participant actions. */
export interface CallControlRequestBody {
  destination?: string
  reason?: string
  timeout?: number
  attacheddata?: Record<string, unknown>
}

export type ParticipantAction = 'drop' | 'answer' | 'divert' | 'routeto' | 'transferto'

/**
 * What the Call Control client hands to the live call model, stamped with the gateway's clock
 * (`at`, ms since epoch) because 3CX's events carry no timestamps.
 * - `upsert`: the entity was fetched after an upsert event (duplicates already dropped).
 * - `remove`: a remove event, or an upsert whose fetch answered 404 (the leg vanished).
 * - `resync`: a full `GET /callcontrol` snapshot after (re)connecting; the model reconciles with it.
 */
export type ParticipantChange =
  | { kind: 'upsert', participant: CallParticipant, dnType: CallControlDnType, at: number }
  /**
   * `uncertain`: a change announced for the participant was never read (its fetch found it gone),
   * so what happened to it just before it went is not known.
   */
  | { kind: 'remove', dn: string, id: number, at: number, uncertain?: boolean }
  /**
   * `firstEvents`: dn/id → when the first event of a participant in the snapshot arrived, for those
   * whose events came before it (a catch-up: reads fell behind); the call was there by then.
   * `removedAt`: dn/id → when the remove event of a participant missing from it arrived, for those
   * whose every change had been read (their end was seen, only handled after the snapshot).
   */
  | { kind: 'resync', dns: DNInfo[], at: number, firstEvents?: Readonly<Record<string, number>>, removedAt?: Readonly<Record<string, number>> }
