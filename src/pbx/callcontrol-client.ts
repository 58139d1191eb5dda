// The Call Control client (3cx-v20.md §5–6), one object for the rest of the gateway. It composes
// three parts: the socket (callcontrol-socket.ts: connect, ping, back-off), the change feed
// (callcontrol-feed.ts: events and reads turned into ParticipantChanges) and the REST calls
// (callcontrol-rest.ts: snapshot, participant reads, makecall and actions).
import type { BackoffOptions } from './backoff.js'
import type { CallControlApi, ChangeListener } from './pbx-api.js'
import type {
  CallControlRequestBody,
  CallControlResult,
  DNInfo,
  ParticipantAction
} from './callcontrol-types.js'
import { CallControlFeed } from './callcontrol-feed.js'
import { CallControlRest } from './callcontrol-rest.js'
import { CallControlSocket, DEFAULT_RECONNECT } from './callcontrol-socket.js'
import type { PbxLogger, PbxObserver } from './pbx-http.js'
import type { PbxRequester } from './pbx-requester.js'
import type { Clock } from '../clock.js'

export { callControlWsUrl, DEFAULT_RECONNECT } from './callcontrol-socket.js'
export { parseEventMessage, type ParticipantEvent } from './callcontrol-feed.js'
export { isSuccessStatus, PARTICIPANT_ACTIONS } from './callcontrol-rest.js'

export interface CallControlClientOptions {
  requester: PbxRequester
  logger?: PbxLogger
  observe?: PbxObserver
  /** Reconnect delays (default 500 ms doubling up to 30 s, with jitter); tries never stop. */
  reconnect?: BackoffOptions
  /** WebSocket ping interval; a missing pong by the next ping terminates the socket (default 10 s). */
  pingIntervalMs?: number
  /** How long the WebSocket upgrade may take (default: the PBX timeout). */
  handshakeTimeoutMs?: number
  /**
   * When the oldest change not yet fetched was announced longer ago than this, a snapshot replaces
   * the backlog (default 1000 ms).
   */
  catchUpAfterMs?: number
  /** Timers and time stamps (default the system clock). */
  clock?: Clock
}

export class CallControlClient implements CallControlApi {
  private readonly rest: CallControlRest
  private readonly socket: CallControlSocket
  private readonly feed: CallControlFeed

  constructor (opts: CallControlClientOptions) {
    const reconnect = opts.reconnect ?? DEFAULT_RECONNECT
    this.rest = new CallControlRest(opts.requester)
    // The socket and the feed refer to each other only through these two small interfaces.
    this.feed = new CallControlFeed({
      reader: this.rest,
      link: { get connected () { return socket.connected }, drop: () => { socket.terminate() } },
      clock: opts.clock,
      logger: opts.logger,
      catchUpAfterMs: opts.catchUpAfterMs,
      resyncDelayMs: reconnect.baseMs,
      synced: () => { socket.resetBackoff() }
    })
    const feed = this.feed
    const socket = this.socket = new CallControlSocket({
      requester: opts.requester,
      handler: { opened: () => { feed.opened() }, message: (text) => { feed.message(text) }, closed: () => { feed.closed() } },
      clock: opts.clock,
      logger: opts.logger,
      observe: opts.observe,
      reconnect,
      pingIntervalMs: opts.pingIntervalMs,
      handshakeTimeoutMs: opts.handshakeTimeoutMs
    })
  }

  get connected (): boolean { return this.socket.connected }
  get reconnects (): number { return this.socket.reconnects }
  /** Snapshots taken because participant fetches fell behind. */
  get catchUps (): number { return this.feed.catchUps }

  start (): void {
    this.feed.start()
    this.socket.start()
  }

  async stop (): Promise<void> {
    const feedStopped = this.feed.stop()
    await this.socket.stop()
    await feedStopped
  }

  onChange (listener: ChangeListener): () => void { return this.feed.onChange(listener) }
  /** The feed's own promise: a pending ready() rejected by stop() is never an unhandled rejection. */
  ready (): Promise<void> { return this.feed.ready() }
  oldestPendingUpsert (): number | null { return this.feed.oldestPendingUpsert() }
  blindSince (): number | null { return this.feed.blindSince() }

  async snapshot (signal?: AbortSignal): Promise<DNInfo[]> { return await this.rest.snapshot(signal) }

  async makeCall (dn: string, body: CallControlRequestBody, deviceId?: string): Promise<CallControlResult> {
    return await this.rest.makeCall(dn, body, deviceId)
  }

  async action (dn: string, participantId: number, action: ParticipantAction, body?: CallControlRequestBody): Promise<CallControlResult> {
    return await this.rest.action(dn, participantId, action, body)
  }
}
