// The one HTTP connection pool per PBX, shared by the token manager, the XAPI client and the Call
// Control REST calls: keep-alive, a timeout on every request, network failures turned into PbxErrors
// that say what is wrong, and one observation per request for metrics.
import type { Readable } from 'node:stream'
import { Pool } from 'undici'
import { PbxError } from './pbx-api.js'
import type { PbxApiName } from './pbx-errors.js'

export interface PbxObservation {
  api: PbxApiName
  method: string
  /** Low-cardinality template: an entity set or function name, never ids or caller values. */
  route: string
  /** The PBX's HTTP status, or null when no answer came. */
  status: number | null
  durationMs: number
  /** A stable error code (PBX_UNREACHABLE, PBX_TIMEOUT, …) when no answer came. */
  error?: string
}

export type PbxObserver = (o: PbxObservation) => void

/** The part of a pino logger the PBX clients use. */
export interface PbxLogger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
}

export const silentLogger: PbxLogger = { debug () {}, info () {}, warn () {}, error () {} }

export interface PbxHttpOptions {
  /** PBX_URL, e.g. https://pbx.example.com:5001 */
  baseUrl: string
  /** Default per-request timeout (PBX_TIMEOUT_MS). */
  timeoutMs: number
  observe?: PbxObserver
  /** Keep-alive connections to the PBX (default 16). */
  connections?: number
}

export interface PbxRequest {
  api: PbxApiName
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Path below PBX_URL, starting with '/', already encoded. */
  path: string
  /** Template for metrics and messages (see pbx-errors.ts). */
  route: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
  signal?: AbortSignal
  /** `stream`: a 2xx body is handed over unread (downloads); the timeout then limits idle time only. */
  read?: 'text' | 'stream'
}

export interface PbxAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The body as text ('' in stream mode on 2xx). */
  text: string
  /** The unread body in stream mode on 2xx, else null. */
  stream: Readable | null
}

class TimeoutMarker extends Error {}

export class PbxHttp {
  readonly pool: Pool
  /** Scheme, host and port of the PBX. */
  readonly origin: string
  /** Path prefix of PBX_URL ('' normally). */
  readonly basePath: string
  /** host[:port] for messages (never credentials). */
  readonly host: string
  readonly timeoutMs: number
  private readonly observe: PbxObserver

  constructor (opts: PbxHttpOptions) {
    const url = new URL(opts.baseUrl)
    this.origin = url.origin
    this.host = url.host
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.timeoutMs = opts.timeoutMs
    this.observe = opts.observe ?? (() => {})
    this.pool = new Pool(this.origin, { connections: opts.connections ?? 16, keepAliveTimeout: 30_000 })
  }

  /** Sends one request (no retries, no auth). Throws PbxError when no HTTP answer came. */
  async request (req: PbxRequest): Promise<PbxAnswer> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs
    const started = performance.now()
    const ac = new AbortController()
    const timer = setTimeout(() => { ac.abort(new TimeoutMarker()) }, timeoutMs)
    const onCallerAbort = (): void => { ac.abort(req.signal?.reason) }
    req.signal?.addEventListener('abort', onCallerAbort, { once: true })
    const cleanup = (): void => {
      clearTimeout(timer)
      req.signal?.removeEventListener('abort', onCallerAbort)
    }
    let handedOver = false
    try {
      req.signal?.throwIfAborted()
      const res = await this.pool.request({
        path: this.basePath + req.path,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: ac.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      })
      const ok = res.statusCode >= 200 && res.statusCode < 300
      this.observe({ api: req.api, method: req.method, route: req.route, status: res.statusCode, durationMs: performance.now() - started })
      if (req.read === 'stream' && ok) {
        clearTimeout(timer)
        handedOver = true
        res.body.once('close', cleanup)
        return { status: res.statusCode, headers: res.headers, text: '', stream: res.body }
      }
      return { status: res.statusCode, headers: res.headers, text: await res.body.text(), stream: null }
    } catch (err) {
      if (req.signal?.aborted === true) throw req.signal.reason
      const timedOut = ac.signal.aborted && ac.signal.reason instanceof TimeoutMarker
      const error = timedOut
        ? new PbxError('PBX_TIMEOUT', `${req.method} ${req.route}: the PBX at ${this.host} did not answer within ${timeoutMs} ms (PBX_TIMEOUT_MS)`, 504)
        : errorForNetwork(err, `${req.method} ${req.route}`, this.host)
      this.observe({ api: req.api, method: req.method, route: req.route, status: null, durationMs: performance.now() - started, error: error.code })
      throw error
    } finally {
      if (!handedOver) cleanup()
    }
  }

  async close (): Promise<void> {
    await this.pool.close()
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/

/** Why no HTTP answer came, as a PbxError an admin can act on. */
export function errorForNetwork (err: unknown, what: string, host: string): PbxError {
  if (err instanceof PbxError) return err
  const e = err as { code?: string, cause?: { code?: string }, message?: string }
  const code = e?.code ?? e?.cause?.code ?? ''
  const at = `${what}: cannot reach the PBX at ${host}`
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new PbxError('PBX_TIMEOUT', `${what}: the PBX at ${host} stopped answering (PBX_TIMEOUT_MS)`, 504)
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new PbxError('PBX_UNREACHABLE', `${at}: the host name does not resolve (check PBX_URL and DNS)`, 503)
  if (code === 'ECONNREFUSED') return new PbxError('PBX_UNREACHABLE', `${at}: connection refused (check the port in PBX_URL: 443 on hosted PBXs, usually 5001 self-hosted)`, 503)
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new PbxError('PBX_UNREACHABLE', `${at}: no route or no answer to connect (firewall? Console Restrictions IP allow-list in Admin > Advanced?)`, 503)
  }
  if (TLS_CODES.test(code)) return new PbxError('PBX_UNREACHABLE', `${at}: its TLS certificate was not accepted (${code}); use the PBX's FQDN with a valid certificate`, 503)
  return new PbxError('PBX_UNREACHABLE', `${at}: ${code !== '' ? code : 'network error'}`, 503)
}
