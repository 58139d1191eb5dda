// The Call Control client (3cx-v20.md §5–6): REST for snapshots, makecall and participant actions,
// and the WebSocket event stream turned into ParticipantChanges. Events carry no data, so every
// upsert is fetched (one entity at a time, in order); a full snapshot follows every (re)connect
// and events that arrive meanwhile are applied after it. When the fetches fall behind (a slow or
// failing PBX under heavy traffic), one snapshot replaces the backlog: it holds the state of every
// change announced before it was requested.
import WebSocket, { type RawData } from 'ws'
import { backoffDelay, type BackoffOptions } from './backoff.js'
import { PbxError, type CallControlApi, type ChangeListener } from './pbx-api.js'
import {
  CallControlEventType,
  type CallControlDnType,
  type CallControlRequestBody,
  type CallControlResult,
  type CallParticipant,
  type DNInfo,
  type ParticipantAction,
  type ParticipantChange
} from './callcontrol-types.js'
import { silentLogger, type PbxHttp, type PbxLogger, type PbxObserver } from './pbx-http.js'
import { parseJson, type PbxRequester } from './pbx-requester.js'
import { pathSegment } from './odata.js'

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
  now?: () => number
}

export const PARTICIPANT_ACTIONS: readonly ParticipantAction[] = ['drop', 'answer', 'divert', 'routeto', 'transferto']

export const DEFAULT_RECONNECT: BackoffOptions = { baseMs: 500, maxMs: 30_000 }

/** Removed participants remembered so late upserts and repeated removes emit nothing (ids never come back). */
const REMOVED_MEMORY = 10_000

/** A participant event from the WebSocket, or null for anything the gateway ignores. */
export interface ParticipantEvent {
  kind: 'upsert' | 'remove'
  dn: string
  id: number
  /** When it arrived (ms epoch); an event held during a snapshot keeps its arrival time. */
  receivedAt?: number
}

/** Parses one WebSocket message; unknown types, device entities and garbage give null. */
export function parseEventMessage (raw: string): ParticipantEvent | null {
  let msg: unknown
  try { msg = JSON.parse(raw) } catch { return null }
  const event = (msg as { event?: { event_type?: unknown, entity?: unknown } } | null)?.event
  if (typeof event !== 'object' || event === null) return null
  const type = Number(event.event_type)
  if (type !== CallControlEventType.Upsert && type !== CallControlEventType.Remove) return null
  if (typeof event.entity !== 'string') return null
  const m = /\/callcontrol\/([^/]+)\/participants\/(\d+)\/?$/.exec(event.entity)
  if (m === null) return null
  let dn: string
  try { dn = decodeURIComponent(m[1]) } catch { return null }
  return { kind: type === CallControlEventType.Upsert ? 'upsert' : 'remove', dn, id: Number(m[2]) }
}

/** `CallRequestStatus` Success (1), as a number or a string. */
export function isSuccessStatus (finalstatus: unknown): boolean {
  return finalstatus === 1 || /^\s*(1|success)\s*$/i.test(String(finalstatus))
}

/** ws(s)://host/callcontrol/ws for a PBX base URL. */
export function callControlWsUrl (http: Pick<PbxHttp, 'origin' | 'basePath'>): string {
  return `${http.origin.replace(/^http/, 'ws')}${http.basePath}/callcontrol/ws`
}

export class CallControlClient implements CallControlApi {
  /** Upsert events not yet fetched, in arrival order (a Map keeps insertion order). */
  private readonly pendingUpserts = new Map<object, number>()
  /** Participants with an upsert queued whose fetch has not begun: another upsert adds nothing. */
  private readonly queuedUpserts = new Set<string>()
  /**
   * Participants with an announced change that was not read (its fetch failed or was left to a
   * snapshot not applied yet): their remove is uncertain, the call's end must be looked up.
   */
  private readonly unread = new Set<string>()
  /** When the snapshot being fetched was requested, or null when none is. */
  private snapshotRequestedAt: number | null = null
  /** The oldest change the snapshot being fetched covers (announced, not read, when it was requested). */
  private snapshotCoversFrom: number | null = null
  private _catchUps = 0
  /** Since when the client has not seen the PBX (before its first snapshot, or since the WebSocket or a snapshot failed); null while it sees. */
  private unseenSince: number | null = null

  private ws: WebSocket | null = null
  private stopped = true
  /** Bumped on every connect and on stop: callbacks of older sockets are ignored. */
  private generation = 0
  private opens = 0
  private attempt = 0
  private _reconnects = 0
  private reconnectTimer: NodeJS.Timeout | null = null
  private pingTimer: NodeJS.Timeout | null = null
  private resyncTimer: NodeJS.Timeout | null = null
  private readonly listeners = new Set<ChangeListener>()
  private dnTypes = new Map<string, CallControlDnType>()
  /** dn/id → JSON of the participant last emitted, to drop duplicate upserts. */
  private lastEmitted = new Map<string, string>()
  private readonly removed = new Set<string>()
  private readonly entityQueues = new Map<string, Promise<void>>()
  /** Events that arrive while a snapshot is being fetched; null when none is. */
  private buffer: { events: ParticipantEvent[] } | null = null
  /** Bumped when a snapshot is requested: fetches begun before it are covered by it. */
  private epoch = 0
  /** Aborts the snapshot and participant fetches of the running client on stop(). */
  private fetches = new AbortController()
  /** Aborts the participant fetches of the current epoch: a new snapshot covers them. */
  private epochFetches = new AbortController()
  private readyState!: { promise: Promise<void>, resolve: () => void, reject: (e: Error) => void, settled: boolean }
  private readonly logger: PbxLogger
  private readonly now: () => number
  private readonly reconnect: BackoffOptions
  private readonly pingIntervalMs: number
  private readonly catchUpAfterMs: number

  constructor (private readonly opts: CallControlClientOptions) {
    this.logger = opts.logger ?? silentLogger
    this.now = opts.now ?? Date.now
    this.reconnect = opts.reconnect ?? DEFAULT_RECONNECT
    this.pingIntervalMs = opts.pingIntervalMs ?? 10_000
    this.catchUpAfterMs = opts.catchUpAfterMs ?? 1000
    this.newReadyState()
  }

  get connected (): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN
  }

  get reconnects (): number {
    return this._reconnects
  }

  /** Snapshots taken because participant fetches fell behind. */
  get catchUps (): number {
    return this._catchUps
  }

  start (): void {
    if (!this.stopped) return
    this.stopped = false
    if (this.readyState.settled) this.newReadyState()
    this.unseenSince = this.now()
    this.fetches = new AbortController()
    void this.connect()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.generation++
    this.buffer = null
    this.snapshotRequestedAt = null
    this.fetches.abort(new Error('Call Control client stopped'))
    for (const t of [this.reconnectTimer, this.pingTimer, this.resyncTimer]) if (t !== null) clearTimeout(t)
    this.reconnectTimer = this.pingTimer = this.resyncTimer = null
    const ws = this.ws
    this.ws = null
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => { resolve() })
        ws.terminate()
      })
    }
    if (!this.readyState.settled) {
      this.readyState.settled = true
      this.readyState.reject(new Error('Call Control client stopped before its first snapshot'))
    }
    await Promise.allSettled([...this.entityQueues.values()])
  }

  onChange (listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async ready (): Promise<void> {
    await this.readyState.promise
  }

  async snapshot (signal?: AbortSignal): Promise<DNInfo[]> {
    const answer = await this.opts.requester.send({ api: 'callcontrol', method: 'GET', path: '/callcontrol', route: 'callcontrol', headers: { accept: 'application/json' }, idempotent: true, signal })
    const dns = parseJson<unknown>(answer, 'GET callcontrol')
    if (!Array.isArray(dns)) throw new PbxError('PBX_ERROR', 'GET callcontrol: the PBX did not answer a list of DNs', 502, answer.status)
    return dns as DNInfo[]
  }

  async makeCall (dn: string, body: CallControlRequestBody, deviceId?: string): Promise<CallControlResult> {
    const device = deviceId === undefined || deviceId === '' ? '' : `/devices/${pathSegment(deviceId)}`
    const route = device === '' ? 'callcontrol/{dn}/makecall' : 'callcontrol/{dn}/devices/{device}/makecall'
    return await this.post(`/callcontrol/${pathSegment(dn)}${device}/makecall`, route, body)
  }

  async action (dn: string, participantId: number, action: ParticipantAction, body: CallControlRequestBody = {}): Promise<CallControlResult> {
    if (!PARTICIPANT_ACTIONS.includes(action)) {
      throw new PbxError('PBX_REJECTED', `"${String(action)}" is not a Call Control action; use one of ${PARTICIPANT_ACTIONS.join(', ')}`, 400)
    }
    if (!Number.isInteger(participantId) || participantId < 0) {
      throw new PbxError('PBX_REJECTED', 'a participant id is a non-negative whole number', 400)
    }
    return await this.post(`/callcontrol/${pathSegment(dn)}/participants/${participantId}/${action}`, `callcontrol/{dn}/participants/{id}/${action}`, body)
  }

  /** POST actions are never retried: a retried makecall would dial twice. */
  private async post (path: string, route: string, body: CallControlRequestBody): Promise<CallControlResult> {
    const answer = await this.opts.requester.send({
      api: 'callcontrol',
      method: 'POST',
      path,
      route,
      headers: { accept: 'application/json', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      idempotent: false
    })
    const result = parseJson<CallControlResult | undefined>(answer, `POST ${route}`) ?? { finalstatus: 1, reason: '', reasontext: '', result: null }
    const id = result.result?.id
    if ((id === undefined || id === null) && !isSuccessStatus(result.finalstatus)) {
      const why = [result.reasontext, result.reason, `finalstatus ${String(result.finalstatus)}`].find((s) => typeof s === 'string' && s !== '' && s !== 'None')
      throw new PbxError('PBX_REJECTED', `POST ${route}: the PBX did not perform it (${why ?? 'no reason given'})`, 502, answer.status)
    }
    return result
  }

  // --- WebSocket -------------------------------------------------------------------------------

  private newReadyState (): void {
    let resolve!: () => void
    let reject!: (e: Error) => void
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    promise.catch(() => {})
    this.readyState = { promise, resolve, reject, settled: false }
  }

  private async connect (): Promise<void> {
    if (this.stopped) return
    const gen = ++this.generation
    const { requester } = this.opts
    let token: string
    try {
      token = await requester.tokens.getToken()
    } catch (err) {
      this.logger.warn({ api: 'callcontrol', err: errText(err) }, 'Call Control WebSocket: no token; will retry')
      this.scheduleReconnect(gen)
      return
    }
    if (gen !== this.generation) return
    const started = performance.now()
    let observed = false
    const observe = (status: number | null, error?: string): void => {
      if (observed) return
      observed = true
      this.opts.observe?.({ api: 'callcontrol', method: 'GET', route: 'callcontrol/ws', status, durationMs: performance.now() - started, error })
    }
    const ws = new WebSocket(callControlWsUrl(requester.http), {
      headers: { authorization: `Bearer ${token}` },
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? requester.http.timeoutMs,
      perMessageDeflate: false
    })
    this.ws = ws
    let alive = true
    ws.on('unexpected-response', (_req, res) => {
      observe(res.statusCode ?? null)
      if (res.statusCode === 401) requester.tokens.invalidate(token)
      const hint = res.statusCode === 403 ? ': tick "3CX Call Control API Access" for the API client (Admin > Integrations > API)' : ''
      this.logger.warn({ api: 'callcontrol', status: res.statusCode }, `Call Control WebSocket upgrade refused (${String(res.statusCode)})${hint}`)
      res.resume()
      ws.terminate()
    })
    ws.on('upgrade', () => { observe(101) })
    ws.on('error', (err) => {
      observe(null, 'PBX_UNREACHABLE')
      this.logger.debug({ api: 'callcontrol', err: errText(err) }, 'Call Control WebSocket error')
    })
    ws.on('pong', () => { alive = true })
    ws.on('open', () => {
      if (gen !== this.generation) { ws.terminate(); return }
      if (this.opens++ > 0) this._reconnects++
      this.logger.info({ api: 'callcontrol', reconnects: this._reconnects }, 'Call Control WebSocket connected')
      this.pingTimer = setInterval(() => {
        if (!alive) { ws.terminate(); return }
        alive = false
        ws.ping()
      }, this.pingIntervalMs)
      void this.resync(gen)
    })
    ws.on('message', (data: RawData) => {
      if (gen !== this.generation) return
      const event = parseEventMessage(data.toString())
      if (event === null) return
      event.receivedAt = this.now()
      if (event.kind === 'upsert' && this.buffer === null) this.catchUpIfBehind()
      if (this.buffer !== null) this.buffer.events.push(event)
      else this.apply(event)
    })
    ws.on('close', () => {
      if (this.ws !== ws) return
      this.ws = null
      this.buffer = null
      if (!this.stopped) this.unseenSince ??= Math.min(this.oldestPendingUpsert() ?? Infinity, this.now())
      this.snapshotRequestedAt = null
      if (this.pingTimer !== null) { clearInterval(this.pingTimer); this.pingTimer = null }
      if (!this.stopped) {
        this.logger.warn({ api: 'callcontrol' }, 'Call Control WebSocket closed; reconnecting')
        this.scheduleReconnect(gen)
      }
    })
  }

  private scheduleReconnect (gen: number): void {
    if (this.stopped || gen !== this.generation || this.reconnectTimer !== null) return
    const delay = backoffDelay(this.attempt++, this.reconnect)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      void this.connect()
    }, delay)
  }

  /** Full snapshot → `resync`, then the events that arrived meanwhile. */
  private async resync (gen: number): Promise<void> {
    const buffer = { events: [] as ParticipantEvent[] }
    this.buffer = buffer
    this.epoch++
    // Fetches still running or queued in the pool are covered by this snapshot: free the connections for it.
    this.epochFetches.abort(new Error('covered by a snapshot'))
    this.epochFetches = new AbortController()
    this.snapshotRequestedAt = this.now()
    this.snapshotCoversFrom = this.snapshotRequestedAt
    for (const at of this.pendingUpserts.values()) { this.snapshotCoversFrom = Math.min(at, this.snapshotRequestedAt); break }
    let dns: DNInfo[]
    try {
      dns = await this.snapshot(this.fetches.signal)
    } catch (err) {
      if (this.buffer === buffer) {
        this.unseenSince ??= this.snapshotCoversFrom ?? this.now()
        this.buffer = null
        this.snapshotRequestedAt = null
      }
      if (gen !== this.generation || this.stopped) return
      this.logger.warn({ api: 'callcontrol', err: errText(err) }, 'Call Control snapshot failed; reconnecting')
      this.ws?.terminate()
      return
    }
    if (this.buffer !== buffer || gen !== this.generation) return
    this.dnTypes = new Map(dns.map((d) => [d.dn, d.type]))
    this.unread.clear() // the snapshot read them all (a participant missing from it is gone)
    this.lastEmitted = new Map()
    for (const d of dns) for (const p of d.participants ?? []) this.lastEmitted.set(`${p.dn}/${p.id}`, JSON.stringify(p))
    this.attempt = 0
    this.emit({ kind: 'resync', dns, at: this.now() })
    this.unseenSince = null
    if (!this.readyState.settled) { this.readyState.settled = true; this.readyState.resolve() }
    // Fetches of changes announced before the snapshot was requested cannot tell anything newer.
    const requestedAt = this.snapshotRequestedAt ?? -Infinity
    for (const [token, at] of this.pendingUpserts) {
      if (at > requestedAt) break
      this.pendingUpserts.delete(token)
    }
    this.buffer = null
    this.snapshotRequestedAt = null
    for (const e of buffer.events) this.apply(e)
  }

  /** A fetch failed for another reason than 404: the model may have missed a change, take a snapshot soon. */
  private resyncSoon (): void {
    if (this.resyncTimer !== null || !this.connected) return
    const gen = this.generation
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null
      if (gen === this.generation && this.buffer === null) void this.resync(gen)
    }, this.reconnect.baseMs)
  }

  /** Queues the event behind earlier ones for the same participant. */
  private apply (event: ParticipantEvent): void {
    const key = `${event.dn}/${event.id}`
    if (event.kind === 'upsert') {
      // A queued fetch that has not begun will read this change too.
      if (this.queuedUpserts.has(key)) return
      this.queuedUpserts.add(key)
    }
    const prev = this.entityQueues.get(key) ?? Promise.resolve()
    const token = {}
    const announced = { at: event.receivedAt ?? this.now(), epoch: this.epoch }
    if (event.kind === 'upsert') this.pendingUpserts.set(token, announced.at)
    const next = prev.then(async () => {
      if (event.kind === 'upsert') this.queuedUpserts.delete(key)
      // A snapshot requested after the change was announced holds it (or a newer state).
      if (event.kind === 'upsert' && announced.epoch !== this.epoch) { this.leftToSnapshot(key); return }
      await this.process(event, key, this.epoch)
    }).catch((err: unknown) => {
      this.logger.error({ api: 'callcontrol', err: errText(err) }, 'Call Control event handling failed')
    }).finally(() => { this.pendingUpserts.delete(token) })
    this.entityQueues.set(key, next)
    void next.then(() => { if (this.entityQueues.get(key) === next) this.entityQueues.delete(key) })
  }

  private async process (event: ParticipantEvent, key: string, epoch: number): Promise<void> {
    if (this.removed.has(key)) return
    if (event.kind === 'remove') { this.emitRemove(event, key, this.unread.has(key)); return }
    let participant: CallParticipant
    try {
      const answer = await this.opts.requester.send({
        api: 'callcontrol',
        method: 'GET',
        path: `/callcontrol/${encodeURIComponent(event.dn)}/participants/${event.id}`,
        route: 'callcontrol/{dn}/participants/{id}',
        headers: { accept: 'application/json' },
        idempotent: true,
        signal: AbortSignal.any([this.fetches.signal, this.epochFetches.signal])
      })
      participant = parseJson<CallParticipant>(answer, 'GET callcontrol participant')
    } catch (err) {
      if (this.stopped) return
      if (epoch !== this.epoch) { this.leftToSnapshot(key); return }
      if (err instanceof PbxError && err.code === 'PBX_NOT_FOUND') { this.emitRemove(event, key, true); return }
      this.unread.add(key)
      this.logger.warn({ api: 'callcontrol', err: errText(err) }, 'Call Control: fetching a participant failed; taking a new snapshot')
      this.resyncSoon()
      return
    }
    // A snapshot requested after this fetch began already holds this state or a newer one.
    if (epoch !== this.epoch || this.stopped) { this.leftToSnapshot(key); return }
    if (typeof participant !== 'object' || participant === null) return
    this.unread.delete(key)
    const json = JSON.stringify(participant)
    if (this.lastEmitted.get(key) === json) return
    this.lastEmitted.set(key, json)
    const dnType = this.dnTypes.get(participant.dn ?? event.dn) ?? this.dnTypes.get(event.dn) ?? 'None'
    this.emit({ kind: 'upsert', participant, dnType, at: this.now() })
  }

  /**
   * When the oldest change not yet known was announced (ms epoch): an upsert still being fetched,
   * or the request of the snapshot being fetched. Null when none is.
   */
  oldestPendingUpsert (): number | null {
    let oldest = this.snapshotRequestedAt === null ? null : this.snapshotCoversFrom
    for (const at of this.pendingUpserts.values()) {
      if (oldest === null || at < oldest) oldest = at
      break
    }
    return oldest
  }

  /**
   * Since when the client cannot see the PBX: before its first snapshot, and from a lost WebSocket
   * (or a failed snapshot) until the next snapshot is applied. Null while it sees. Whatever ended
   * meanwhile is only known from that snapshot: a call's end waits for it, however long it takes.
   */
  blindSince (): number | null {
    return this.unseenSince
  }

  /** The fetches fell behind: one snapshot replaces the backlog (see catchUpAfterMs). */
  private catchUpIfBehind (): void {
    if (this.buffer !== null || this.resyncTimer !== null || !this.connected) return
    let oldest: number | undefined
    for (const at of this.pendingUpserts.values()) { oldest = at; break }
    if (oldest === undefined || this.now() - oldest < this.catchUpAfterMs) return
    this._catchUps++
    this.logger.warn({ api: 'callcontrol', behindMs: this.now() - oldest, pending: this.pendingUpserts.size }, 'Call Control: participant fetches fell behind; taking a snapshot instead')
    void this.resync(this.generation)
  }

  /** A change of the participant is left to the snapshot: unread until that snapshot is applied (after it, it was read). */
  private leftToSnapshot (key: string): void {
    if (this.snapshotRequestedAt !== null) this.unread.add(key)
  }

  /** `uncertain`: the participant's last announced change was never read (see ParticipantChange). */
  private emitRemove (event: ParticipantEvent, key: string, uncertain = false): void {
    this.unread.delete(key)
    this.lastEmitted.delete(key)
    this.removed.add(key)
    if (this.removed.size > REMOVED_MEMORY) this.removed.delete(this.removed.values().next().value as string)
    this.emit(uncertain ? { kind: 'remove', dn: event.dn, id: event.id, at: this.now(), uncertain } : { kind: 'remove', dn: event.dn, id: event.id, at: this.now() })
  }

  private emit (change: ParticipantChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (err) {
        this.logger.error({ api: 'callcontrol', err: errText(err) }, 'a Call Control change listener threw')
      }
    }
  }
}

function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
