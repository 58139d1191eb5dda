// Decorates the Fastify instance with the gateway's services (built once in services.ts, or by a
// test), so route plugins reach them as `app.gateway.xapi`, `app.gateway.calls`, …
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { CallControlApi, XapiApi } from '../pbx/pbx-api.js'
import type { CallModelView } from '../calls/live-call.js'
import type { DirectoryCache } from '../directory/directory-cache.js'

export interface GatewayDeps {
  config: Config
  xapi: XapiApi
  callControl: CallControlApi
  calls: CallModelView
  /** Set in demo mode: the in-process simulator's base URL. */
  simulatorUrl?: string
  /** Cached directory data (users, queues, groups); the legacy routes create it when absent. */
  directory?: DirectoryCache
  /** Further services register themselves here as they are built (directory, outbox, …). */
  [service: string]: unknown
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: GatewayDeps
  }
}

export default fp(async (app, opts: { deps: GatewayDeps }) => {
  app.decorate('gateway', opts.deps)
}, { name: 'gateway', fastify: '5.x' })
