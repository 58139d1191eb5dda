// The Call Control WebSocket (3cx-v20.md §6): connects with a Bearer token, pings to notice a dead
// link, and reconnects with backoff, without limit, until stop(). It knows nothing of participants:
// it hands each text message, and every open and close, to its handler (the change feed).
import WebSocket, { type RawData } from 'ws'
import { backoffDelay, type BackoffOptions } from './backoff.js'
import { errText } from './pbx-errors.js'
import { silentLogger, type PbxHttp, type PbxLogger, type PbxObserver } from './pbx-http.js'
import type { PbxRequester } from './pbx-requester.js'
import { systemClock, type Clock, type TimerHandle } from '../clock.js'

export const DEFAULT_RECONNECT: BackoffOptions = { baseMs: 500, maxMs: 30_000 }

/** What the socket reports; each call belongs to the socket open at that moment. */
export interface SocketHandler {
  opened: () => void
  message: (text: string) => void
  /** The open socket, or an attempt to open one, ended; a reconnect is scheduled (not after stop()). */
  closed: () => void
}

export interface CallControlSocketOptions {
  requester: PbxRequester
  handler: SocketHandler
  clock?: Clock
  logger?: PbxLogger
  observe?: PbxObserver
  /** Reconnect delays (default 500 ms doubling up to 30 s, with jitter); tries never stop. */
  reconnect?: BackoffOptions
  /** Ping interval; a missing pong by the next ping terminates the socket (default 10 s). */
  pingIntervalMs?: number
  /** How long the upgrade may take (default: the PBX timeout). */
  handshakeTimeoutMs?: number
}

/** ws(s)://host/callcontrol/ws for a PBX base URL. */
export function callControlWsUrl (http: Pick<PbxHttp, 'origin' | 'basePath'>): string {
  return `${http.origin.replace(/^http/, 'ws')}${http.basePath}/callcontrol/ws`
}

export class CallControlSocket {
  private ws: WebSocket | null = null
  private stopped = true
  /** Bumped on every connect and on stop: callbacks of older sockets are ignored. */
  private generation = 0
  private opens = 0
  private attempt = 0
  private _reconnects = 0
  private reconnectTimer: TimerHandle | null = null
  private pingTimer: TimerHandle | null = null
  private readonly clock: Clock
  private readonly logger: PbxLogger
  private readonly reconnect: BackoffOptions
  private readonly pingIntervalMs: number

  constructor (private readonly opts: CallControlSocketOptions) {
    this.clock = opts.clock ?? systemClock
    this.logger = opts.logger ?? silentLogger
    this.reconnect = opts.reconnect ?? DEFAULT_RECONNECT
    this.pingIntervalMs = opts.pingIntervalMs ?? 10_000
  }

  get connected (): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN
  }

  /** How many times the socket opened again after its first open. */
  get reconnects (): number {
    return this._reconnects
  }

  start (): void {
    if (!this.stopped) return
    this.stopped = false
    void this.connect()
  }

  /** Closes the socket without reporting it to the handler; no reconnect follows. */
  async stop (): Promise<void> {
    this.stopped = true
    this.generation++
    this.clock.clearTimeout(this.reconnectTimer ?? undefined)
    this.clock.clearInterval(this.pingTimer ?? undefined)
    this.reconnectTimer = this.pingTimer = null
    const ws = this.ws
    this.ws = null
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => { resolve() })
        ws.terminate()
      })
    }
  }

  /** Drops the open socket (the handler hears `closed`, a reconnect follows). */
  terminate (): void {
    this.ws?.terminate()
  }

  /** The link works end to end (the feed applied a snapshot): the next reconnect waits the shortest delay. */
  resetBackoff (): void {
    this.attempt = 0
  }

  private async connect (): Promise<void> {
    if (this.stopped) return
    const gen = ++this.generation
    const { requester, handler } = this.opts
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
      this.pingTimer = this.clock.setInterval(() => {
        if (!alive) { ws.terminate(); return }
        alive = false
        ws.ping()
      }, this.pingIntervalMs)
      handler.opened()
    })
    ws.on('message', (data: RawData) => {
      if (gen === this.generation) handler.message(data.toString())
    })
    ws.on('close', () => {
      if (this.ws !== ws) return
      this.ws = null
      this.clock.clearInterval(this.pingTimer ?? undefined)
      this.pingTimer = null
      if (this.stopped) return
      this.logger.warn({ api: 'callcontrol' }, 'Call Control WebSocket closed; reconnecting')
      this.scheduleReconnect(gen)
      handler.closed()
    })
  }

  private scheduleReconnect (gen: number): void {
    if (this.stopped || gen !== this.generation || this.reconnectTimer !== null) return
    const delay = backoffDelay(this.attempt++, this.reconnect)
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null
      void this.connect()
    }, delay)
  }
}
