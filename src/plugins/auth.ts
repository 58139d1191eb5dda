// API-key authentication for the legacy API and every route that uses its keys (legacy-api.md §1):
// the key in the path (/webapi/{key}/…), the query (?key=) or the X-API-Key header; constant-time
// comparison; read/control scopes; failed attempts throttled per client address (a valid key always
// passes); a general per-key request limit; and the key kept out of every log line (request-key.ts).
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import '@fastify/rate-limit'
import type { GatewayKey, KeyScope } from '../config.js'
import { LegacyError } from '../legacy/legacy-error.js'
import { presentedKey } from './request-key.js'

export type { KeyScope }

/** The key that authenticated a request, by a label safe to log (`key#1`), never the key itself. */
export interface AuthenticatedKey {
  id: string
  scope: KeyScope
}

export interface AuthOptions {
  /** Failed attempts per client address and window before it gets 429 (default 10). */
  maxFailures?: number
  failureWindowMs?: number
  /** Requests per key per window (default config.rateLimitPerMinute per minute). */
  perKeyMax?: number
  perKeyWindowMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    apiKeys: ApiKeyAuth
  }
  interface FastifyRequest {
    apiKey: AuthenticatedKey | null
  }
}

/** `makecall` and every `*.set` need a control key; everything else a read key. */
export function methodScope (method: string): KeyScope {
  return method === 'makecall' || method.endsWith('.set') ? 'control' : 'read'
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

type Limiter = ReturnType<FastifyRequest['server']['createRateLimit']>
type LimitResult = Awaited<ReturnType<Limiter>>

export class ApiKeyAuth {
  private readonly keys: Array<{ digest: Buffer, id: string, scope: KeyScope }>

  constructor (
    keys: readonly GatewayKey[],
    private readonly failures: Limiter,
    private readonly perKey: Limiter
  ) {
    this.keys = keys.map((k, i) => ({ digest: digest(k.key), id: `key#${i + 1}`, scope: k.scope }))
  }

  /** The configured key equal to `presented`, compared in constant time against every key. */
  match (presented: string | undefined): AuthenticatedKey | null {
    const d = digest(presented ?? '')
    let found: AuthenticatedKey | null = null
    for (const k of this.keys) {
      if (timingSafeEqual(d, k.digest) && presented !== undefined) found = { id: k.id, scope: k.scope }
    }
    return found
  }

  /**
   * Authenticates and authorises a request, or throws the LegacyError to answer with. Only failed
   * attempts are throttled, per client address: a valid key always passes, so wrong keys sent from
   * a shared (NAT) or spoofed address can never lock a legitimate client out. Guessing stays
   * pointless because keys are long and random (config.ts requires ≥ 16 characters).
   */
  async authorize (req: FastifyRequest, reply: FastifyReply, scope: KeyScope): Promise<AuthenticatedKey> {
    return await this.authorizeKey(req, reply, presentedKey(req), scope)
  }

  /** authorize() for a key the request carries elsewhere (the console's login form). */
  async authorizeKey (req: FastifyRequest, reply: FastifyReply, presented: string | undefined, scope: KeyScope): Promise<AuthenticatedKey> {
    const key = this.match(presented)
    if (key === null) {
      const attempt = await this.failures(req)
      if (!attempt.isAllowed && attempt.isExceeded) {
        throw rateLimited(reply, attempt, 'Too many failed authentication attempts from this address')
      }
      throw new LegacyError(401, 'UNAUTHORIZED', 'Missing or invalid API key: send it as /webapi/{key}/{method}, ?key= or the X-API-Key header')
    }
    if (scope === 'control' && key.scope !== 'control') {
      throw new LegacyError(403, 'FORBIDDEN_SCOPE', 'This API key may only read; this method needs a key with the control scope')
    }
    req.apiKey = key
    const limit = await this.perKey(req)
    if (!limit.isAllowed && limit.isExceeded) throw rateLimited(reply, limit, 'Too many requests with this API key')
    return key
  }
}

function rateLimited (reply: FastifyReply, r: LimitResult, what: string): LegacyError {
  const seconds = r.isAllowed ? 60 : Math.max(1, r.ttlInSeconds)
  void reply.header('retry-after', seconds)
  return new LegacyError(429, 'RATE_LIMITED', `${what}; retry in ${seconds} s`)
}

/** onRequest (or preHandler) hook: the request needs a key of at least `scope`. */
export function requireScope (scope: KeyScope): onRequestAsyncHookHandler {
  return async function checkApiKey (req, reply) {
    await req.server.apiKeys.authorize(req, reply, scope)
  }
}

export default fp(async (app, opts: AuthOptions) => {
  const { config } = app.gateway
  const failures = app.createRateLimit({
    max: opts.maxFailures ?? 10,
    timeWindow: opts.failureWindowMs ?? 60_000,
    // req.ip follows Fastify's trustProxy (config.ts: TRUST_PROXY), i.e. the right-most address
    // that is not a trusted proxy; never a client-chosen X-Forwarded-For entry.
    keyGenerator: (req) => `auth-fail:${req.ip}`
  })
  const perKey = app.createRateLimit({
    max: opts.perKeyMax ?? config.rateLimitPerMinute,
    timeWindow: opts.perKeyWindowMs ?? 60_000,
    keyGenerator: (req) => `key:${req.apiKey?.id ?? ''}`
  })
  app.decorate('apiKeys', new ApiKeyAuth(config.keys, failures, perKey))
  app.decorateRequest('apiKey', null)
}, { name: 'auth', fastify: '5.x', dependencies: ['gateway', '@fastify/rate-limit'] })
