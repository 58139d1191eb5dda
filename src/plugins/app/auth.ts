// API-key authentication for the legacy API and every route that uses its keys (legacy-api.md §1):
// the key in the path (/webapi/{key}/…), the query (?key=) or the X-API-Key header; constant-time
// comparison (key-table.ts); read/control scopes; failed attempts throttled per client address (a valid key always
// passes); a general per-key request limit; and the key kept out of every log line (request-key.ts).
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import '@fastify/rate-limit'
import type { GatewayKey, KeyScope } from '../../config.js'
import { LegacyError } from '../../legacy/legacy-error.js'
import { KeyRing, stableKeyId } from './key-table.js'
import { duplicateParameterError } from '../../legacy/duplicate-parameters.js'
import { conflictingKeyPlaces, KEY_QUERY_PARAM, presentedKey, repeatedKeyHeader } from './request-key.js'
import { WindowCounter, type PerKeyLimit } from './window-counter.js'
import { SharedWindowCounter } from './shared-window-counter.js'

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

type Limiter = ReturnType<FastifyRequest['server']['createRateLimit']>

export class ApiKeyAuth {
  /** Plain keys, and keys known only by their SHA-256 (the tenants table stores no key). */
  private keys!: KeyRing<AuthenticatedKey>
  /** Each configured key's label object, by its scope and stable id (the same for a key and its digest). */
  private labels = new Map<string, AuthenticatedKey>()
  /** Each label's stable id (stableKeyId), kept out of the label so no log or page can show it. */
  private readonly stableIds = new WeakMap<AuthenticatedKey, string>()
  /** A label whose key stayed but moved → the key's next label: how a session follows its key (currentLabel()). */
  private readonly movedTo = new WeakMap<AuthenticatedKey, AuthenticatedKey>()

  constructor (
    keys: readonly GatewayKey[],
    private readonly failures: Limiter,
    private readonly perKey: PerKeyLimit
  ) {
    this.replaceKeys(keys)
  }

  /**
   * New keys at once (a tenant's keys changed while running): the next request is checked against
   * them only. Labels are by position (`key#N`, as logs show), so a key that stays but moves gets
   * a new label; a key that stays at its place and scope keeps its label object. Sessions opened with
   * a key that stays go on whatever its position; those of a key that went or changed scope end (currentLabel()).
   */
  replaceKeys (keys: readonly GatewayKey[]): void {
    const next = new Map<string, AuthenticatedKey>()
    const entries = keys.map((k, i) => {
      const stable = stableKeyId(k)
      const identity = `${k.scope}\0${stable}`
      const id = `key#${i + 1}`
      const old = this.labels.get(identity)
      const label = old?.id === id ? old : Object.freeze({ id, scope: k.scope })
      if (old !== undefined && old !== label) this.movedTo.set(old, label)
      next.set(identity, label)
      this.stableIds.set(label, stable)
      return [k, label] as const
    })
    this.keys = new KeyRing(entries)
    this.labels = next
  }

  /**
   * The key's id that stays when keys are added, removed or reordered (its label `key#N` does not):
   * what its request window is counted under. Never logged or shown.
   */
  stableId (key: AuthenticatedKey): string {
    return this.stableIds.get(key) ?? key.id
  }

  /**
   * For a key that authenticated earlier (a console session's): its label among the keys configured
   * now, following the key through every move; null once the key was removed or changed scope, even
   * if it was configured again later (its sessions ended with it).
   */
  currentLabel (key: AuthenticatedKey): AuthenticatedKey | null {
    let label = key
    for (let next = this.movedTo.get(label); next !== undefined; next = this.movedTo.get(label)) label = next
    return this.labels.get(`${label.scope}\0${this.stableIds.get(label) ?? ''}`) === label ? label : null
  }

  /** The configured key equal to `presented`, compared in constant time against every key of its length. */
  match (presented: string | undefined): AuthenticatedKey | null {
    return this.keys.find(presented)
  }

  /**
   * Authenticates and authorises a request: null when it may go on, the LegacyError to answer
   * with (403, per-key 429), or, for a missing or wrong key, a promise of it. Only failed attempts
   * are throttled, per client address: a valid key always passes, so wrong keys sent from a
   * shared (NAT) or spoofed address can never lock a legitimate client out. Guessing stays
   * pointless because keys are long and random (config.ts requires ≥ 16 characters). A valid key
   * is answered without a promise: this runs on every request.
   */
  check (req: FastifyRequest, reply: FastifyReply, scope: KeyScope): LegacyError | null | Promise<LegacyError> {
    // `?key=K&key=K` is a repeated parameter (400, as on every route), not a wrong key: authentication
    // runs before the duplicate-parameter rule, and would otherwise answer 401 "missing or invalid".
    const queryKey = (req.query as Record<string, unknown> | undefined)?.[KEY_QUERY_PARAM]
    if (Array.isArray(queryKey)) return duplicateParameterError(KEY_QUERY_PARAM, queryKey.length)
    // Likewise the X-API-Key header sent twice (or two keys comma-joined in one).
    const headerKeys = repeatedKeyHeader(req.headers)
    if (headerKeys !== 0) return duplicateParameterError('X-API-Key', headerKeys, 'Header')
    // Two different keys (the path's and the header's, say) are refused, not one picked. The keys are not named.
    const places = conflictingKeyPlaces(req)
    if (places !== null) return new LegacyError(400, 'DUPLICATE_PARAMETER', `The API key is given in ${places.slice(0, -1).join(', ')} and ${places[places.length - 1]}, with different values; give one key, once`)
    return this.checkKey(req, reply, presentedKey(req), scope)
  }

  /** check() for a key the request carries elsewhere (the console's login form): the key, or throws. */
  async authorizeKey (req: FastifyRequest, reply: FastifyReply, presented: string | undefined, scope: KeyScope): Promise<AuthenticatedKey> {
    const refused = await this.checkKey(req, reply, presented, scope)
    if (refused !== null) throw refused
    return req.apiKey as AuthenticatedKey
  }

  private checkKey (req: FastifyRequest, reply: FastifyReply, presented: string | undefined, scope: KeyScope): LegacyError | null | Promise<LegacyError> {
    const key = this.match(presented)
    if (key === null) return this.refuse(req, reply)
    if (scope === 'control' && key.scope !== 'control') {
      return new LegacyError(403, 'FORBIDDEN_SCOPE', 'This API key may only read; this method needs a key with the control scope')
    }
    req.apiKey = key
    const retryAfter = this.perKey.hit(this.stableId(key))
    return retryAfter === 0 ? null : rateLimited(reply, retryAfter, 'Too many requests with this API key')
  }

  /** A failed attempt: counted against the client address; 429 once it had too many, else 401. */
  private async refuse (req: FastifyRequest, reply: FastifyReply): Promise<LegacyError> {
    const attempt = await this.failures(req)
    if (!attempt.isAllowed && attempt.isExceeded) {
      return rateLimited(reply, Math.max(1, attempt.ttlInSeconds), 'Too many failed authentication attempts from this address')
    }
    return new LegacyError(401, 'UNAUTHORIZED', 'Missing or invalid API key: send it as /webapi/{key}/{method}, ?key= or the X-API-Key header')
  }
}

function rateLimited (reply: FastifyReply, seconds: number, what: string): LegacyError {
  void reply.header('retry-after', seconds)
  return new LegacyError(429, 'RATE_LIMITED', `${what}; retry in ${seconds} s`)
}

/**
 * After a request passed authentication and the per-key limit: answers it at once and returns true
 * (the rest of the lifecycle is skipped), or returns false to let it go on.
 */
export type AuthorizedShortcut = (req: FastifyRequest, reply: FastifyReply) => boolean

/**
 * onRequest (or preHandler) hook: the request needs a key of at least `scope`. Callback style: no
 * promise for a valid key. `shortcut` may answer an authorised request from memory in this hook.
 */
export function requireScope (scope: KeyScope, shortcut?: AuthorizedShortcut): onRequestHookHandler {
  return function checkApiKey (req, reply, done) {
    const refused = req.server.apiKeys.check(req, reply, scope)
    if (refused instanceof Promise) {
      refused.then((err) => { done(err as FastifyError) }, done)
      return
    }
    if (refused !== null) done(refused as FastifyError)
    else if (shortcut === undefined || !shortcut(req, reply)) done()
  }
}

/** Across replicas when they share a database (the windows in PostgreSQL), else in this process. */
function sharedOrLocal (app: FastifyInstance, limit: { max: number, windowMs: number }): PerKeyLimit {
  const store = app.gateway.keyWindows
  if (store === undefined) return new WindowCounter(limit.max, limit.windowMs)
  const shared = new SharedWindowCounter(store, {
    ...limit,
    onError: (err) => { app.log.warn({ err }, 'per-key limit: the shared request counts cannot be written; each replica limits on what it knows until they can') }
  })
  shared.start()
  app.addHook('onClose', async () => { await shared.stop() })
  return shared
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
  const limit = { max: opts.perKeyMax ?? config.rateLimitPerMinute, windowMs: opts.perKeyWindowMs ?? 60_000 }
  const perKey = sharedOrLocal(app, limit)
  app.decorate('apiKeys', new ApiKeyAuth(config.keys, failures, perKey))
  app.decorateRequest('apiKey', null)
}, { name: 'auth', fastify: '5.x', dependencies: ['gateway', '@fastify/rate-limit'] })
