// What one legacy method is: its name (the last URL segment), docs, schemas and a handler that
// gets the validated querystring and the gateway's services and returns the response body.
import type { CallModelView } from '../../src/calls/live-call.js'
import type { DirectoryCache } from '../../src/directory/directory-cache.js'
import type { CallControlApi, XapiApi } from '../../src/pbx/pbx-api.js'

export interface LegacyServices {
  calls: CallModelView
  directory: DirectoryCache
  xapi: XapiApi
  callControl: CallControlApi
}

export interface LegacyMethod<Q = Record<string, never>> {
  name: string
  summary: string
  description?: string
  /** Docs grouping: calls, directory, queues, control. */
  tag: string
  querystring: object
  /** Schema of the 200 answer. */
  response: object
  handler: (query: Q, services: LegacyServices) => unknown
  /**
   * The answer when memory holds it, without a promise, else undefined (then the handler runs).
   * A method with `peek` is answered straight after authentication and the per-key limit, in the
   * route's onRequest hook, once the querystring has passed the route's own schema: the hot cached
   * path skips the rest of the request lifecycle (issue 16). It must answer what the handler would.
   */
  peek?: (query: Q, services: LegacyServices) => SerializedJson | undefined
}

/** Any method, whatever its querystring type (the schema has validated it before the call). */
export type AnyLegacyMethod = LegacyMethod<never>

export function defineMethod<Q> (m: LegacyMethod<Q>): AnyLegacyMethod {
  return m as unknown as AnyLegacyMethod
}

/**
 * A handler may answer with JSON it serialized itself (e.g. once per change of the call list
 * instead of once per request); the route sends it as is. It must match the response schema.
 * Kept as a string, not bytes: Node joins a string body to the response head in one write, while a
 * Buffer body goes out as a second chunk of a writev, which cost more CPU per request (issue 16).
 */
export class SerializedJson {
  constructor (readonly json: string) {}
}

/** Serializes `format(list)` again only when the list object changed (the call model caches it). */
export function serializedPerList<L extends object> (format: (list: L) => unknown): (list: L) => SerializedJson {
  let last: L | null = null
  let body: SerializedJson | null = null
  return (list) => {
    if (list !== last || body === null) {
      last = list
      body = new SerializedJson(JSON.stringify(format(list)))
    }
    return body
  }
}
