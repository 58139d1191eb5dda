// Which methods a path answers to, from the routes as they are registered: a request with another
// method gets 405 METHOD_NOT_ALLOWED and an `Allow` header (RFC 9110 §15.5.6), not a 404 that
// suggests the path does not exist.

interface RoutePattern { regex: RegExp, methods: Set<string> }

/** `/webapi/:key/pbx.calls.get` → a regex for concrete paths (`:param` one segment, `*` the rest). */
export function routeRegex (url: string): RegExp {
  const source = url.split('/').map((segment) => {
    if (segment === '*') return '.*'
    if (segment.startsWith(':')) return '[^/]+'
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }).join('/')
  return new RegExp(`^${source}$`)
}

export class RouteMethods {
  private readonly patterns = new Map<string, RoutePattern>()

  add (method: string | string[], url: string): void {
    let p = this.patterns.get(url)
    if (p === undefined) {
      p = { regex: routeRegex(url), methods: new Set() }
      this.patterns.set(url, p)
    }
    for (const m of Array.isArray(method) ? method : [method]) p.methods.add(m.toUpperCase())
  }

  /** The methods some route answers at `path` (no querystring), sorted; empty when none does. */
  allowed (path: string): string[] {
    const out = new Set<string>()
    for (const p of this.patterns.values()) {
      if (p.regex.test(path)) for (const m of p.methods) out.add(m)
    }
    return [...out].sort()
  }
}
