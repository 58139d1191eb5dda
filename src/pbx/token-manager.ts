// OAuth2 client-credentials tokens for both PBX APIs (3cx-v20.md §2). 3CX allows one active token
// per client, so fetching is single-flight: one request in flight, every caller waits for it, and a
// burst of 401s leads to exactly one refresh. The secret and the token never reach a log line.
import { PbxError } from './pbx-api.js'
import { silentLogger, type PbxHttp, type PbxLogger } from './pbx-http.js'
import { pbxMessage } from './pbx-errors.js'
import { systemClock, type Clock } from '../clock.js'

export interface TokenManagerOptions {
  http: PbxHttp
  clientId: string
  clientSecret: string
  logger?: PbxLogger
  /** Share of the lifetime after which the token is renewed (default 0.8). */
  refreshRatio?: number
  /** Stamps when a token was fetched and whether it is still fresh (default the system clock). */
  clock?: Clock
}

/** Fields of a `/connect/token` answer the gateway reads. */
export interface TokenAnswer {
  access_token?: unknown
  expires_in?: unknown
}

/** Used when neither the JWT nor `expires_in` say how long a token lives (3CX's own sample caches 1800 s). */
const FALLBACK_LIFETIME_MS = 1_800_000

/**
 * How long a token lives, in ms from `now`: the JWT `exp` when present (from `exp - iat` when the
 * clocks disagree), else `expires_in` as seconds, or as minutes when below 300 (3CX before 20.0.9).
 */
export function tokenLifetimeMs (answer: TokenAnswer, now: number): number {
  const claims = jwtClaims(typeof answer.access_token === 'string' ? answer.access_token : '')
  if (claims !== null && typeof claims.exp === 'number') {
    const untilExp = claims.exp * 1000 - now
    if (untilExp > 0) return untilExp
    if (typeof claims.iat === 'number' && claims.exp > claims.iat) return (claims.exp - claims.iat) * 1000
  }
  const expiresIn = Number(answer.expires_in)
  if (Number.isFinite(expiresIn) && expiresIn > 0) return expiresIn < 300 ? expiresIn * 60_000 : expiresIn * 1000
  return FALLBACK_LIFETIME_MS
}

/** The claims of a JWT, unverified (only the gateway's own timing depends on them), or null. */
export function jwtClaims (token: string): Record<string, unknown> | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    return typeof claims === 'object' && claims !== null ? claims as Record<string, unknown> : null
  } catch {
    return null
  }
}

/**
 * A token shared by several gateway replicas of one PBX (3CX keeps one active token per client):
 * the replica holding the PBX's stream fetches tokens and publishes them; the others borrow them.
 */
export interface SharedToken {
  /** True on a standby: take the published token instead of fetching one. */
  readonly borrow: boolean
  read: () => Promise<{ token: string, expiresAt: number } | null>
  publish: (token: string, expiresAt: number) => void
}

export class TokenManager {
  /** Set on replicas (services.ts); null: this manager fetches its own tokens. */
  shared: SharedToken | null = null
  private token: string | null = null
  private expiresAt = 0
  private refreshAt = 0
  private inflight: Promise<string> | null = null
  /** How many tokens this manager fetched (for metrics and tests). */
  fetched = 0
  private readonly logger: PbxLogger
  private readonly clock: Clock
  private readonly refreshRatio: number

  constructor (private readonly opts: TokenManagerOptions) {
    this.logger = opts.logger ?? silentLogger
    this.clock = opts.clock ?? systemClock
    this.refreshRatio = opts.refreshRatio ?? 0.8
  }

  /** A token is held and has not expired (for readiness). */
  get valid (): boolean {
    return this.token !== null && this.clock.now() < this.expiresAt
  }

  /** When the held token expires (ms since epoch), or null. */
  get expiry (): number | null {
    return this.token === null ? null : this.expiresAt
  }

  /** A usable token: the held one until ~80 % of its lifetime, else a fresh one (single-flight). */
  async getToken (): Promise<string> {
    if (this.token !== null && this.clock.now() < this.refreshAt) return this.token
    this.inflight ??= (this.shared?.borrow === true ? this.borrow(this.shared) : this.fetch()).finally(() => { this.inflight = null })
    return await this.inflight
  }

  /**
   * The PBX answered 401 to `token`. Forgets it, so the next getToken() fetches a new one; a no-op
   * when a newer token is already held, so many 401s for one token cause one refresh.
   */
  invalidate (token: string): void {
    if (this.token === token) {
      this.token = null
      this.logger.debug({ api: 'token' }, 'PBX rejected the access token; fetching a new one')
    }
  }

  /** A standby's token: the one the stream's holder published, used until it expires or is refused. */
  /** Forgets the held token: the next getToken() fetches (or borrows) one. */
  forget (): void {
    this.token = null
  }

  private async borrow (shared: SharedToken): Promise<string> {
    const got = await shared.read()
    if (got === null || got.expiresAt <= this.clock.now()) {
      throw new PbxError('PBX_UNREACHABLE', 'no access token to the PBX yet: this replica is a standby and the replica holding the PBX stream has not published one (it takes a few seconds after a take-over)', 503)
    }
    this.token = got.token
    this.expiresAt = got.expiresAt
    this.refreshAt = got.expiresAt
    return got.token
  }

  private async fetch (): Promise<string> {
    const { http } = this.opts
    const body = new URLSearchParams({ client_id: this.opts.clientId, client_secret: this.opts.clientSecret, grant_type: 'client_credentials' }).toString()
    const answer = await http.request({
      api: 'token',
      method: 'POST',
      path: '/connect/token',
      route: 'connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body
    })
    if (answer.status !== 200) throw this.failure(answer.status, answer.text)
    let parsed: TokenAnswer
    try {
      parsed = JSON.parse(answer.text) as TokenAnswer
    } catch {
      parsed = {}
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new PbxError('PBX_ERROR', `${http.host} answered /connect/token without an access token: is PBX_URL a 3CX V20 PBX?`, 502, answer.status)
    }
    const now = this.clock.now()
    const lifetime = tokenLifetimeMs(parsed, now)
    this.token = parsed.access_token
    this.expiresAt = now + lifetime
    this.refreshAt = now + lifetime * this.refreshRatio
    this.fetched++
    this.shared?.publish(this.token, this.expiresAt)
    this.logger.debug({ api: 'token', lifetimeS: Math.round(lifetime / 1000) }, 'fetched a PBX access token')
    return this.token
  }

  private failure (status: number, text: string): PbxError {
    const host = this.opts.http.host
    if (status === 401 || status === 400) {
      const said = pbxMessage(text)
      return new PbxError('PBX_AUTH_FAILED', `the PBX at ${host} refused the API client credentials (${status}${said !== '' ? `: ${said}` : ''}); check PBX_CLIENT_ID and PBX_CLIENT_SECRET (Admin > Integrations > API; the secret is shown only once, generate a new one if it is lost)`, 502, status)
    }
    if (status === 404) {
      return new PbxError('PBX_ERROR', `${host} has no /connect/token (404): it is not a 3CX V20 PBX, or PBX_URL points to the wrong port or path`, 502, 404)
    }
    return new PbxError('PBX_ERROR', `the PBX at ${host} answered ${status} to /connect/token`, 502, status)
  }
}
