// Query parameter names as the routes spell them, whatever case or list suffix a client used
// (legacy-api.md §2). The legacy generator ran on .NET, whose query collections ignore the case of
// names, so CRM code written for it may send `?Num=101` or `?KEY=…`; PHP clients write a one-value
// list as `num[]=101`. Both reached the routes as unknown names: "num is missing", or 401 for a key
// the caller did send. Names are matched here, in the query parser, so that every reader (the key
// reader, the duplicate rule, the schemas, the tenants' router) sees one spelling. Two spellings of
// one name in a request become that name given twice: 400 DUPLICATE_PARAMETER, never a guess.
import { parse } from 'fast-querystring'
import { KEY_QUERY_PARAM } from './plugins/app/request-key.js'

export type ParsedQuery = Record<string, unknown>

export class QueryNames {
  /** Lower-case name → the routes' spelling. */
  private readonly spellings = new Map<string, string>([[KEY_QUERY_PARAM, KEY_QUERY_PARAM]])

  /**
   * Learns the names a route's querystring schema declares (its `properties`). Two routes may not
   * spell one name two ways: a client's `?top=` could not be told apart then.
   */
  learn (schema: unknown): void {
    const properties = (schema as { properties?: unknown } | undefined)?.properties
    if (properties === null || typeof properties !== 'object') return
    for (const name of Object.keys(properties)) {
      const lower = name.toLowerCase()
      const known = this.spellings.get(lower)
      if (known !== undefined && known !== name) throw new Error(`query parameter "${name}" is spelled "${known}" by another route; use one spelling`)
      this.spellings.set(lower, name)
    }
  }

  /** Fastify's `routerOptions.querystringParser`: fast-querystring (Fastify's own), then the names. */
  readonly parse = (text: string): ParsedQuery => this.respell(parse(text) as ParsedQuery)

  /** Renames, in place, each known name written in another case or as `name[]`. */
  respell (query: ParsedQuery): ParsedQuery {
    let renames: Array<[from: string, to: string]> | undefined
    for (const name in query) {
      // Hot path: a name spelled as the routes spell it costs one lookup.
      if (this.spellings.get(name) === name) continue
      const to = this.spellingOf(name)
      if (to !== undefined && to !== name) (renames ??= []).push([name, to])
    }
    if (renames === undefined) return query
    for (const [from, to] of renames) {
      const value = query[from]
      delete query[from]
      // Given under two spellings: a list, which the duplicate rule refuses naming `to`.
      query[to] = Object.hasOwn(query, to) ? ([] as unknown[]).concat(query[to], value) : value
    }
    return query
  }

  private spellingOf (name: string): string | undefined {
    const lower = name.toLowerCase()
    return this.spellings.get(lower) ?? (lower.endsWith('[]') ? this.spellings.get(lower.slice(0, -2)) : undefined)
  }
}
