// The simulator's model of a 3CX V20 PBX: directory entities in XAPI's own PascalCase shapes
// (so the XAPI side serves them as they are, and PATCH merges into them), plus the ground-truth
// records of calls the call engine played (from which CallHistoryView, reports, Recordings and the
// fault suite's checker are derived).

export type QueueStatus = 'LoggedIn' | 'LoggedOut'

export interface SimForwardingProfile {
  Id: number
  /** 3CX's internal name: Available, Away, OutOfOffice, Available2, OutOfOffice2. */
  Name: string
  /** Display name: "Available", "Away", "Out of office", "Custom 1", "Custom 2". */
  CustomName: string
  AcceptMultipleCalls: boolean
  NoAnswerTimeout: number
  /** Office hours log the agent in/out of queues (profile-driven queue status). */
  OfficeHoursAutoQueueLogOut: boolean
  /** Pbx.AvailableRouting; the simulator reads its busy forwarding (absent in the seed: set by PATCH). */
  AvailableRoute?: SimAvailableRoute
}

/** The part of Pbx.AvailableRouting the call engine plays: where a busy extension's calls go. */
export interface SimAvailableRoute {
  /** One destination for internal and external calls (BusyInternal). */
  BusyAllCalls?: boolean | null
  BusyInternal?: SimForwardDestination | null
  BusyExternal?: SimForwardDestination | null
  [other: string]: unknown
}

/** A Pbx.Destination of a forwarding rule, as PATCHed (To: VoiceMail, Extension, Queue, …). */
export interface SimForwardDestination { To?: string, Number?: string, [other: string]: unknown }

export interface SimUserGroup {
  Id: number
  GroupId: number
  Name: string
  Number: string
  MemberName: string
  Type: 'Extension'
  Rights: { RoleName: string }
}

export interface SimUser {
  Id: number
  Number: string
  FirstName: string
  LastName: string
  DisplayName: string
  EmailAddress: string
  Mobile: string
  OutboundCallerID: string
  Enabled: boolean
  IsRegistered: boolean
  /** The Name (not CustomName) of the active forwarding profile. */
  CurrentProfileName: string
  QueueStatus: QueueStatus
  RecordCalls: boolean
  RecordExternalCallsOnly: boolean
  /** "Internal calls only": may not call external numbers. */
  Internal: boolean
  PrimaryGroupId: number
  Tags: string[]
  Groups: SimUserGroup[]
  ForwardingProfiles: SimForwardingProfile[]
}

export interface SimQueueAgent { Id: number, Number: string, Name: string, SkillGroup: string, Tags: string[] }

export interface SimQueue {
  Id: number
  Number: string
  Name: string
  IsRegistered: boolean
  PollingStrategy: 'RingAll' | 'Hunt'
  /** Seconds each agent rings (hunt) */
  RingTimeout: number
  /** Seconds before a caller leaves the queue (timeout) */
  MasterTimeout: number
  MaxCallersInQueue: number
  SLATime: number
  WrapUpTime: number
  Recording: 'Disabled' | 'AllowToOptOut' | 'AskToOptIn'
  Agents: SimQueueAgent[]
}

export interface SimRingGroupMember { Id: number, Number: string, Name: string, Tags: string[] }

export interface SimRingGroup {
  Id: number
  Number: string
  Name: string
  IsRegistered: boolean
  RingStrategy: 'Hunt' | 'RingAll' | 'Paging'
  RingTime: number
  Members: SimRingGroupMember[]
}

export interface SimReceptionistForward { Id: number, Input: string, ForwardType: string, ForwardDN: string, PeerType: string, CustomData: string }

export interface SimReceptionist {
  Id: number
  Number: string
  Name: string
  IsRegistered: boolean
  IVRType: 'Default'
  PromptFilename: string
  Timeout: number
  Forwards: SimReceptionistForward[]
}

export interface SimTrunk {
  Id: number
  Number: string
  IsOnline: boolean
  Direction: 'Both'
  ExternalNumber: string
  Gateway: { Name: string, Host: string, Port: number, Type: string }
  DidNumbers: string[]
  EnableInboundCalls: boolean
  EnableOutboundCalls: boolean
  SimultaneousCalls: number
  OutboundCallerID: string
}

export interface SimDidNumber { Number: string, TrunkId: number, TemplateFileName: string }

/** An inbound rule's destination; `None` (Number '') once the DN it named was deleted. */
export interface SimDestination { To: 'Extension' | 'Queue' | 'RingGroup' | 'IVR' | 'RoutePoint' | 'None', Number: string, Name: string, External: string }

export interface SimInboundRule {
  Id: number
  RuleName: string
  /** The DID the rule matches. */
  Data: string
  Condition: 'BasedOnDID'
  CallType: 'AllCalls'
  TrunkDN: { Id: number, Name: string, Number: string, Type: 'ExternalLine', Hidden: boolean, Tags: string[] }
  OfficeHoursDestination: SimDestination
  OutOfOfficeHoursDestination: SimDestination
  HolidaysDestination: SimDestination
  CustomData: string
}

export interface SimGroup {
  Id: number
  Number: string
  Name: string
  IsDefault: boolean
  HasMembers: boolean
  /** Extension numbers in the department (served as Pbx.UserGroup on $expand=Members). */
  MemberNumbers: string[]
}

/** An API client (Admin > Integrations > API). Not an XAPI entity served as is. */
export interface SimApiClient {
  clientId: string
  secret: string
  xapi: boolean
  callControl: boolean
  role: 'SystemOwner' | 'SystemAdmin'
  /** DNs visible to Call Control: 'all' or a list. The client's own route point is always visible. */
  monitored: 'all' | string[]
  /** The department (group name) XAPI answers are scoped to; absent: the whole PBX. */
  department?: string
}

export interface SimDirectory {
  users: SimUser[]
  queues: SimQueue[]
  ringGroups: SimRingGroup[]
  receptionists: SimReceptionist[]
  trunks: SimTrunk[]
  didNumbers: SimDidNumber[]
  inboundRules: SimInboundRule[]
  groups: SimGroup[]
  apiClients: SimApiClient[]
  system: { Version: string, FQDN: string, MaxSimCalls: number, ProductCode: string, LicenseActive: boolean, LicenseKey: string }
}

/** DN kinds as the engine and Call Control see them. */
export type SimDnKind = 'extension' | 'queue' | 'ringgroup' | 'ivr' | 'externalline' | 'routepoint'

/** One side of a history segment. */
export interface SimParty {
  dn: string
  kind: SimDnKind
  displayName: string
  /** Caller number as the PBX shows it (external number, or the extension number). */
  callerNumber: string
  participantId: number
}

/**
 * One segment of call history (a CallHistoryView row): a stretch of the call between two parties,
 * e.g. caller → queue (waiting), queue → agent (ringing, maybe answered), caller ↔ agent (talking).
 */
export interface SimSegment {
  segmentId: number
  callid: number
  startedAt: Date
  endedAt: Date
  answered: boolean
  /** Talking time (ms), 0 when not answered. */
  talkMs: number
  src: SimParty
  dst: SimParty
  /** Free-form reason: 'answered', 'missed', 'transferred', 'abandoned', 'timeout', 'ivr', 'queue' … */
  action: string
  /** Recording ids made on this segment (0..n). */
  recordingIds: number[]
}

export interface SimRecording {
  Id: number
  callid: number
  /** Absolute path of the WAV file on disk. */
  filePath: string
  /** Path relative to the recordings root, as 3CX's RecordingUrl shows it. */
  relativePath: string
  StartTime: Date
  EndTime: Date
  CallType: 'Local' | 'InboundExternal' | 'OutboundExternal'
  from: SimParty
  to: SimParty
  /** The extension leg that was recorded. */
  dn: string
  /** 1-based index of this file among the files of the same leg (several when split). */
  segmentIndex: number
  /** Participant id of the recorded leg (RefParticipantId). */
  refParticipantId: number
}

/** Ground truth of one finished (or still running) call, kept by the engine. */
export interface SimCallRecord {
  callid: number
  /** Chain id shared with the gateway's `chid` (the simulator's own notion, for the checker). */
  chain: string
  kind: 'inbound' | 'outbound' | 'internal'
  from: string
  to: string
  /** DID dialled for inbound calls, with its rule name. */
  did: string
  ruleName: string
  startedAt: Date
  answeredAt: Date | null
  endedAt: Date | null
  /** Extension that was talking when the call ended, or that first answered. */
  answeredBy: string | null
  /** Queue visited, with the caller's wait and whether they gave up. */
  queue: {
    dn: string
    waitMs: number
    abandoned: boolean
    agentsRung: string[]
    answeredBy: string | null
    /** The caller asked to be called back: the call the agent placed back (null: nobody could). */
    callback?: { callid: number | null }
  } | null
  transfers: Array<{ kind: 'blind' | 'attended', from: string, to: string, answered: boolean }>
  segments: SimSegment[]
  recordings: SimRecording[]
  status: 'ringing' | 'talking' | 'ended'
}
