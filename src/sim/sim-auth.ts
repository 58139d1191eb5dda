// The PBX's token endpoint and bearer checks (3cx-v20.md §2): OAuth2 client credentials, a JWT with
// `exp`, and only one active token per client — issuing a new one invalidates the previous one.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { SimApiClient } from './sim-types.js'

export interface SimAuthOptions {
  /** Token lifetime in seconds (3CX: 3600). */
  lifetimeS: number
  /** How `expires_in` is expressed: seconds (20.0.9+) or minutes (up to 20.0.8). */
  expiresInUnit: 'seconds' | 'minutes'
}

export interface IssuedToken {
  token_type: 'Bearer'
  expires_in: number
  access_token: string
  refresh_token: null
}

export type BearerCheck =
  | { ok: true, client: SimApiClient }
  | { ok: false, reason: 'missing' | 'malformed' | 'expired' | 'superseded' | 'unknown-client' }

export class SimAuth {
  private readonly key = randomBytes(32)
  /** clientId → jti of the one active token. */
  private readonly active = new Map<string, string>()
  /** How many tokens were issued per client (tests assert single-flight with it). */
  readonly issued = new Map<string, number>()

  constructor (private readonly clients: () => SimApiClient[], readonly options: SimAuthOptions) {}

  /** Checks client credentials and issues a token, superseding the client's previous one. */
  issue (clientId: string, secret: string, now = Date.now()): IssuedToken | null {
    const client = this.clients().find((c) => c.clientId === clientId)
    if (client === undefined || !safeEqual(client.secret, secret)) return null
    const jti = randomBytes(12).toString('base64url')
    const iat = Math.floor(now / 1000)
    const exp = iat + this.options.lifetimeS
    this.active.set(clientId, jti)
    this.issued.set(clientId, (this.issued.get(clientId) ?? 0) + 1)
    const expiresIn = this.options.expiresInUnit === 'minutes' ? Math.round(this.options.lifetimeS / 60) : this.options.lifetimeS
    return { token_type: 'Bearer', expires_in: expiresIn, access_token: this.sign({ sub: clientId, iat, exp, jti }), refresh_token: null }
  }

  /** Validates an `Authorization: Bearer …` header value. */
  check (header: string | undefined, now = Date.now()): BearerCheck {
    if (header === undefined || header === '') return { ok: false, reason: 'missing' }
    const m = /^Bearer\s+(\S+)$/i.exec(header)
    if (m === null) return { ok: false, reason: 'malformed' }
    const claims = this.verify(m[1])
    if (claims === null) return { ok: false, reason: 'malformed' }
    if (claims.exp * 1000 <= now) return { ok: false, reason: 'expired' }
    if (this.active.get(claims.sub) !== claims.jti) return { ok: false, reason: 'superseded' }
    const client = this.clients().find((c) => c.clientId === claims.sub)
    if (client === undefined) return { ok: false, reason: 'unknown-client' }
    return { ok: true, client }
  }

  /** Fault injection: every issued token stops working at once. */
  revokeAll (): void {
    this.active.clear()
  }

  private sign (claims: { sub: string, iat: number, exp: number, jti: string }): string {
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
    const body = Buffer.from(JSON.stringify({ ...claims, role: 'Enterprise' })).toString('base64url')
    const sig = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url')
    return `${head}.${body}.${sig}`
  }

  private verify (token: string): { sub: string, iat: number, exp: number, jti: string } | null {
    const parts = token.split('.')
    if (parts.length !== 3) return null
    const expected = createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest('base64url')
    if (!safeEqual(expected, parts[2])) return null
    try {
      const c = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>
      if (typeof c.sub !== 'string' || typeof c.exp !== 'number' || typeof c.jti !== 'string' || typeof c.iat !== 'number') return null
      return { sub: c.sub, exp: c.exp, jti: c.jti, iat: c.iat }
    } catch {
      return null
    }
  }
}

function safeEqual (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
