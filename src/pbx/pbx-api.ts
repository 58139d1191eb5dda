// The contracts between the PBX clients (src/pbx) and their users (call model, routes, reports,
// recordings). Implementations: xapi-client.ts, callcontrol-client.ts. Kept in one small file so
// route code and tests depend on what a client does, not on how.
import type { Readable } from 'node:stream'
import type { ODataQuery } from './odata.js'
import type { CallControlRequestBody, CallControlResult, DNInfo, ParticipantAction, ParticipantChange } from './callcontrol-types.js'

export interface XapiRequestOptions {
  query?: ODataQuery
  /** Overrides the configured per-request timeout. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface XapiCollection<T> {
  value: T[]
  /** `@odata.count` when `$count=true` was asked, else null. */
  count: number | null
}

export interface XapiDownload {
  body: Readable
  contentType: string
  contentLength: number | null
  fileName: string | null
}

/** XAPI (`/xapi/v1`). Paths are relative to it, e.g. `Users(Number='101')`, built with odata.ts. */
export interface XapiApi {
  get<T = unknown>(path: string, opts?: XapiRequestOptions): Promise<T>
  list<T = unknown>(path: string, opts?: XapiRequestOptions): Promise<XapiCollection<T>>
  /** PATCH; 3CX answers 204. */
  patch(path: string, body: unknown, opts?: XapiRequestOptions): Promise<void>
  /** POST action. Never retried (a retried MakeCall would dial twice). */
  post<T = unknown>(path: string, body: unknown, opts?: XapiRequestOptions): Promise<T>
  /** Binary download (`Pbx.DownloadRecording`), whatever the spec says. */
  download(path: string, opts?: XapiRequestOptions): Promise<XapiDownload>
}

export type ChangeListener = (change: ParticipantChange) => void

/** Call Control (`/callcontrol`): REST plus the WebSocket event stream. */
export interface CallControlApi {
  /** Connects the WebSocket (and keeps reconnecting, without limit, until stop()). */
  start(): void
  stop(): Promise<void>
  /** Subscribes to participant changes and resyncs; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void
  readonly connected: boolean
  /** How many times the WebSocket reconnected since start (for metrics). */
  readonly reconnects: number
  /** Snapshots taken because participant fetches fell behind (for metrics). */
  readonly catchUps?: number
  /** Resolves once the first snapshot after connecting has been emitted. */
  ready(): Promise<void>
  snapshot(): Promise<DNInfo[]>
  /** When the oldest upsert still being fetched was announced (ms epoch), or null. */
  oldestPendingUpsert?: () => number | null
  /** Since when the client cannot see the PBX (null while it sees). */
  blindSince?: () => number | null
  makeCall(dn: string, body: CallControlRequestBody, deviceId?: string): Promise<CallControlResult>
  action(dn: string, participantId: number, action: ParticipantAction, body?: CallControlRequestBody): Promise<CallControlResult>
}

/**
 * Why a PBX request failed, in words an admin can act on. `status` is what the gateway answers its
 * own caller (legacy-api.md §2): 502 the PBX answered with an error, 503 unreachable, 504 timed out.
 */
export type PbxErrorCode =
  | 'PBX_UNREACHABLE' // 503
  | 'PBX_TIMEOUT' // 504
  | 'PBX_AUTH_FAILED' // 502: /connect/token said 401 (wrong client id or secret)
  | 'PBX_FORBIDDEN' // 502: 403, role or access flag missing (System Owner needed for history/recordings)
  | 'PBX_NOT_FOUND' // 404: the entity does not exist
  | 'PBX_BAD_FUNCTION_CALL' // 502: 404 on a function call = malformed parameters
  | 'PBX_BAD_VALUE' // 502: 500 on a function call = wrong parameter type
  | 'PBX_RANGE_TOO_LARGE' // 504 from a report / history: range too large
  | 'PBX_REJECTED' // 502: a Call Control action the PBX refused (422, finalstatus ≠ Success)
  | 'PBX_ERROR' // 502: anything else

export class PbxError extends Error {
  override name = 'PbxError'
  constructor (
    readonly code: PbxErrorCode,
    message: string,
    /** The status the gateway should answer with. */
    readonly status: number,
    /** The PBX's own HTTP status, when it answered. */
    readonly pbxStatus: number | null = null
  ) {
    super(message)
  }
}
