// Which tenant a request on the shared port is for (docs/operating.md "Several PBXs"): the path
// prefix /t/<id>/ first, then the API key it presents (each key belongs to one tenant), then the
// console's `gw_tenant` cookie; anything else goes to the first tenant, whose own API answers it
// (401 without one of its keys). Isolation does not rest on this choice: every tenant's app checks
// its own keys, so a key of tenant A that reaches tenant B's app is refused there.
import { hash } from 'node:crypto'
import { KEY_HEADER, KEY_QUERY_PARAM } from '../plugins/app/request-key.js'
import { readCookie } from '../console/console-session.js'

export const TENANT_COOKIE = 'gw_tenant'
/** Answered by the front server itself: the process's liveness, every tenant's readiness and metrics. */
export const FRONT_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

export type TenantRoute =
  | { kind: 'tenant', id: string, url: string }
  | { kind: 'front', path: string }
  | { kind: 'unknown-tenant', id: string }

export interface RoutableRequest { url: string, headers: Record<string, string | string[] | undefined> }

/** SHA-256 hex of a key: the tenants' keys are looked up by it (the tenants table stores only this). */
export function keyDigest (key: string): string {
  return hash('sha256', key, 'hex')
}

export class TenantDirectory {
  private readonly ids: Set<string>
  private readonly byDigest = new Map<string, string>()

  constructor (tenants: ReadonlyArray<{ id: string, keyDigests: readonly string[] }>, readonly fallback: string) {
    this.ids = new Set(tenants.map((t) => t.id))
    for (const t of tenants) for (const d of t.keyDigests) this.byDigest.set(d, t.id)
  }

  has (id: string): boolean {
    return this.ids.has(id)
  }

  /** The tenant a key belongs to, or undefined. */
  ownerOf (key: string | undefined): string | undefined {
    return key === undefined || key === '' ? undefined : this.byDigest.get(keyDigest(key))
  }

  route (req: RoutableRequest): TenantRoute {
    const q = req.url.indexOf('?')
    const path = q === -1 ? req.url : req.url.slice(0, q)
    const prefixed = /^\/t\/([^/]+)(\/.*)?$/.exec(path)
    if (prefixed !== null) {
      const id = safeDecode(prefixed[1])
      if (!this.ids.has(id)) return { kind: 'unknown-tenant', id }
      return { kind: 'tenant', id, url: (prefixed[2] ?? '/') + (q === -1 ? '' : req.url.slice(q)) }
    }
    if (FRONT_PATHS.has(path)) return { kind: 'front', path }
    const byKey = this.ownerOf(presentedKey(path, q === -1 ? '' : req.url.slice(q + 1), req.headers))
    if (byKey !== undefined) return { kind: 'tenant', id: byKey, url: req.url }
    const cookie = readCookie(header(req.headers.cookie), TENANT_COOKIE)
    if (cookie !== undefined && this.ids.has(cookie)) return { kind: 'tenant', id: cookie, url: req.url }
    return { kind: 'tenant', id: this.fallback, url: req.url }
  }
}

/** `gw_tenant` for the console: set at login, the same attributes as the session cookie. */
export function tenantCookie (id: string, secure: boolean): string {
  return [`${TENANT_COOKIE}=${id}`, 'Path=/console', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ')
}

function header (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function safeDecode (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** The key where the API reads it (request-key.ts): /webapi/{key}/…, ?key=, X-API-Key. */
function presentedKey (path: string, query: string, headers: RoutableRequest['headers']): string | undefined {
  const webapi = /^\/webapi\/([^/]+)/.exec(path)
  if (webapi !== null) return safeDecode(webapi[1])
  if (query !== '') {
    const fromQuery = new URLSearchParams(query).get(KEY_QUERY_PARAM)
    if (fromQuery !== null) return fromQuery
  }
  return header(headers[KEY_HEADER])
}
