// Which tenant a request on the shared port is for (docs/operating.md "Several PBXs"): the path
// prefix /t/<id>/ first, then the API key it presents (each key belongs to one tenant), then the
// console's `gw_tenant` cookie; anything else goes to the first tenant, whose own API answers it
// (401 without one of its keys). Isolation does not rest on this choice: every tenant's app checks
// its own keys, so a key of tenant A that reaches tenant B's app is refused there. The key is read
// by the one reader the auth plugin uses (request-key.ts), from the path parameters and query the
// tenants' own router makes of the URL: `/%77ebapi/{key}/…` and `?%6bey=` reach the tenant whose
// app then authenticates them, exactly as on a gateway with one PBX (issue 20).
import type { GatewayKey } from '../config.js'
import { KeyRing, keyDigest } from '../plugins/app/key-table.js'
import { presentedKey } from '../plugins/app/request-key.js'
import { readCookie } from '../console/console-session.js'

export { keyDigest }

export const TENANT_COOKIE = 'gw_tenant'
/** Answered by the front server itself: the process's liveness, every tenant's readiness and metrics. */
export const FRONT_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

export type TenantRoute =
  /** `prefix`: the `/t/<id>` the URL came with (removed from `url`), for the answer's redirects. */
  | { kind: 'tenant', id: string, url: string, prefix?: string }
  | { kind: 'front', path: string }
  | { kind: 'unknown-tenant', id: string }

export interface RoutableRequest { method?: string, url: string, headers: Record<string, string | string[] | undefined> }

/**
 * What the tenants' router makes of a URL (Fastify's `findRoute`): its path parameters and parsed
 * query, or null when no route matches. Every tenant's app has the same routes.
 */
export type RouteLocator = (method: string, url: string) => { params: unknown, searchParams: unknown } | null

export class TenantDirectory {
  private readonly ids: Set<string>
  private readonly keys: KeyRing<string>

  constructor (tenants: ReadonlyArray<{ id: string, keys: ReadonlyArray<Pick<GatewayKey, 'key' | 'sha256'>> }>, readonly fallback: string, private readonly locate: RouteLocator) {
    this.ids = new Set(tenants.map((t) => t.id))
    this.keys = new KeyRing(tenants.flatMap((t) => t.keys.map((k) => [k, t.id] as const)))
  }

  has (id: string): boolean {
    return this.ids.has(id)
  }

  /** The tenant a key belongs to, or undefined (compared in constant time; a digest-only key is hashed once). */
  ownerOf (key: string | undefined): string | undefined {
    return this.keys.find(key) ?? undefined
  }

  route (req: RoutableRequest): TenantRoute {
    const q = req.url.indexOf('?')
    const path = q === -1 ? req.url : req.url.slice(0, q)
    const prefixed = /^\/t\/([^/]+)(\/.*)?$/.exec(path)
    if (prefixed !== null) {
      const id = safeDecode(prefixed[1])
      if (!this.ids.has(id)) return { kind: 'unknown-tenant', id }
      return { kind: 'tenant', id, url: (prefixed[2] ?? '/') + (q === -1 ? '' : req.url.slice(q)), prefix: `/t/${prefixed[1]}` }
    }
    if (FRONT_PATHS.has(path)) return { kind: 'front', path }
    const found = this.locate(req.method ?? 'GET', req.url)
    const byKey = this.ownerOf(presentedKey({ params: found?.params, query: found?.searchParams, headers: req.headers }))
    if (byKey !== undefined) return { kind: 'tenant', id: byKey, url: req.url }
    const cookie = readCookie(header(req.headers.cookie), TENANT_COOKIE)
    if (cookie !== undefined && this.ids.has(cookie)) return { kind: 'tenant', id: cookie, url: req.url }
    return { kind: 'tenant', id: this.fallback, url: req.url }
  }
}

/**
 * A redirect's Location inside a tenant's prefix: an absolute path (`/console/`) gets the prefix the
 * request came with, so the browser stays with that tenant; a full URL, a scheme-relative `//host`
 * or a relative path is left as it is (a relative one resolves against the prefixed URL already).
 */
export function prefixedLocation (location: string, prefix: string): string {
  return location.startsWith('/') && !location.startsWith('//') && !location.startsWith('/\\') ? prefix + location : location
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
