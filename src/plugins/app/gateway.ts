// Decorates the Fastify instance with the gateway's services (built once in services.ts, or by a
// test), so route plugins reach them, typed, as `app.gateway.xapi`, `app.gateway.outbox`, …
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../../config.js'
import type { CallControlApi, XapiApi } from '../../pbx/pbx-api.js'
import type { CallModelView } from '../../calls/live-call.js'
import { DirectoryCache } from '../../directory/directory-cache.js'
import type { OutboxStore } from '../../webhooks/outbox-store.js'
import type { WebhookDelivery } from '../../webhooks/delivery.js'
import type { RecordingService } from '../../recordings/recording-service.js'
import type { Mp3LinkLookup } from '../../reports/mp3-links.js'
import type { GatewayMetrics } from '../../metrics.js'
import type { StreamStatus } from '../../replicas/stream-lease.js'
import type { KeyWindowStore } from './shared-window-counter.js'

/** What buildApp() is given. A test may leave out the optional services; their routes are then not registered. */
export interface GatewayDeps {
  config: Config
  xapi: XapiApi
  callControl: CallControlApi
  calls: CallModelView
  /** Set in demo mode: the in-process simulator's base URL. */
  simulatorUrl?: string
  /** Cached directory data (users, queues, groups); one over `xapi` is made when absent. */
  directory?: DirectoryCache
  /** The durable webhook outbox: `/webhooks/*` and the console's delivery log. */
  outbox?: OutboxStore
  /** Delivers the outbox; the deliveries routes retry through it. */
  webhookDelivery?: WebhookDelivery
  /** MP3 recordings: `/recordings/*` and the console's recordings panel. */
  recordings?: RecordingService
  /** The MP3 link of an XAPI recording id, added to `recordings.list.get` rows. */
  mp3Link?: Mp3LinkLookup
  /** Prometheus metrics: `/metrics` and the request counters. */
  metrics?: GatewayMetrics
  /** The per-key request windows shared by replicas (PostgreSQL); absent: the limit is counted in this process. */
  keyWindows?: KeyWindowStore
  /** Which replica holds the PBX's event stream (/readyz `stream`); absent: not shown. */
  stream?: () => StreamStatus
}

/** The services as routes see them: every route can count on a directory cache. */
export interface GatewayServices extends GatewayDeps {
  directory: DirectoryCache
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: GatewayServices
  }
}

const gateway: FastifyPluginAsync<{ deps: GatewayDeps }> = async (app, opts) => {
  const services: GatewayServices = { ...opts.deps, directory: opts.deps.directory ?? new DirectoryCache(opts.deps.xapi) }
  app.decorate('gateway', services)
}

export default fp(gateway, { name: 'gateway', fastify: '5.x' })
