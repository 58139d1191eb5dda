// The admin console (/console): a static page (public/) and its JSON API under /console/api, opened
// with a gateway key (console-session.ts). Live calls come over SSE from the call model; the webhook
// views are the webhook admin routes registered again under /console/api with the session check.
import { LegacyError } from '../legacy/legacy-error.js'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'
import type { ReadinessCheck } from '../health.js'
import { recordingUrl } from '../recordings/recording-links.js'
import { errorSchema } from '../schemas/shared.js'
import { SessionStore } from './session-store.js'
import { sessionCookie, sessionGuard } from './console-session.js'
import { LiveFeed } from './live-feed.js'
import { liveSnapshot } from './live-view.js'
import { systemStatus } from './system-status.js'

export interface ConsoleOptions {
  /** The readiness checks /readyz runs, shown in the system panel. */
  checks: readonly ReadinessCheck[]
  sessions?: SessionStore
  /** SSE tuning (tests make them short). */
  feed?: { coalesceMs?: number, heartbeatMs?: number }
  /**
   * The webhook routes (routes/webhooks.ts), mounted again under /console/api behind the session
   * check. Passed in by app.ts, which alone picks routes.
   */
  deliveryRoutes?: FastifyPluginAsync<{ preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> }>
}

/** public/ next to src/ (tsx) or next to dist/ (the build); null when it was not installed. */
export function publicDir (base: string | URL = import.meta.url): string | null {
  for (const rel of ['../../public/', '../../../public/']) {
    const dir = fileURLToPath(new URL(rel, base))
    if (existsSync(`${dir}index.html`)) return dir
  }
  return null
}

const sessionSchema = {
  type: 'object',
  properties: { keyId: { type: 'string' }, scope: { type: 'string', enum: ['read', 'control'] }, csrfToken: { type: 'string' } }
}

/** Which scope a console API request needs: looking is read, anything else control (logout excepted). */
function scopeOf (req: FastifyRequest): 'read' | 'control' {
  return req.method === 'GET' || req.method === 'HEAD' || req.url === '/console/api/logout' ? 'read' : 'control'
}

export default async function consolePlugin (app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const deps = app.gateway
  const store = opts.sessions ?? new SessionStore()
  const guard = sessionGuard(store, scopeOf)
  const startedAt = Date.now()
  // The legacy routes' cache: the console adds no PBX traffic of its own.
  const directory = deps.directory
  const pbxVersion = async (): Promise<string | null> => await directory.pbxVersion().catch(() => null)
  app.decorateRequest('consoleSession', null)
  // The console's API is for the page, not for integrations: kept out of /docs.
  app.addHook('onRoute', (route) => { route.schema = { ...route.schema, hide: true } })
  // Nothing the console answers may be cached (call data, tokens).
  app.addHook('onSend', async (_req, reply) => { void reply.header('cache-control', 'no-store') })

  for (const url of ['/', '/console']) {
    app.get(url, { schema: { summary: 'Redirect to the admin console' } }, async (_req, reply) => await reply.redirect('/console/'))
  }
  // A copy of the gateway without public/ (a packaging mistake) still serves calls and webhooks.
  const root = publicDir()
  if (root !== null) await app.register(fastifyStatic, { root, prefix: '/console/', decorateReply: false, index: 'index.html' })
  else app.log.error('console: public/index.html is not installed next to dist/ (copy the public/ folder); /console/ is not served, the API works')

  app.post('/console/api/login', {
    schema: {
      body: { type: 'object', additionalProperties: false, properties: { key: { type: 'string', minLength: 1, maxLength: 512 } }, required: ['key'] },
      response: { 200: sessionSchema, 400: errorSchema, 401: errorSchema, 429: errorSchema }
    }
  }, async (req, reply) => {
    const key = await app.apiKeys.authorizeKey(req, reply, (req.body as { key: string }).key, 'read').catch((err: unknown) => {
      // The API's 401 explains where a request carries its key; the login form only needs the key itself.
      throw err instanceof LegacyError && err.code === 'UNAUTHORIZED' ? new LegacyError(401, 'UNAUTHORIZED', 'Wrong key: log in with one of the gateway\'s keys (GATEWAY_KEYS)') : err
    })
    const session = store.create(key)
    void reply.header('set-cookie', sessionCookie(session.id, req.protocol === 'https'))
    return { keyId: key.id, scope: key.scope, csrfToken: session.csrfToken }
  })

  app.get('/console/api/session', { preHandler: guard, schema: { response: { 200: sessionSchema, 401: errorSchema } } }, async (req) => {
    const s = req.consoleSession
    return { keyId: s?.key.id, scope: s?.key.scope, csrfToken: s?.csrfToken }
  })

  app.post('/console/api/logout', {
    preHandler: guard,
    schema: { response: { 200: { type: 'object', properties: { result: { type: 'boolean' } } }, 401: errorSchema, 403: errorSchema } }
  }, async (req, reply) => {
    if (req.consoleSession !== null) store.delete(req.consoleSession.id)
    void reply.header('set-cookie', sessionCookie('', req.protocol === 'https'))
    return { result: true }
  })

  app.get('/console/api/calls', {
    preHandler: guard,
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            now: { type: 'integer' },
            calls: { type: 'array', items: { type: 'object', additionalProperties: true } },
            queues: { type: 'array', items: { type: 'object', additionalProperties: true } }
          }
        },
        401: errorSchema
      }
    }
  }, async () => liveSnapshot(deps.calls.list(), Date.now()))

  const streams = new Set<PassThrough>()
  app.addHook('preClose', async () => { for (const s of streams) s.end() })
  app.get('/console/events', { preHandler: guard, schema: { response: { 401: errorSchema } } }, async (req, reply) => {
    const stream = new PassThrough()
    const feed = new LiveFeed(deps.calls, (text) => { stream.write(text) }, opts.feed)
    streams.add(stream)
    const end = (): void => {
      feed.stop()
      streams.delete(stream)
      stream.end()
    }
    req.raw.on('close', end)
    stream.on('close', end)
    feed.start()
    return await reply.header('content-type', 'text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(stream)
  })

  app.get('/console/api/recordings', {
    preHandler: guard,
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            enabled: { type: 'boolean' },
            recordings: {
              type: 'array',
              items: {
                type: 'object',
                properties: { fileName: { type: 'string' }, dn: { type: 'string' }, recordedAt: { type: 'integer' }, bytes: { type: ['integer', 'null'] }, url: { type: 'string' } }
              }
            }
          }
        },
        400: errorSchema,
        401: errorSchema
      }
    }
  }, async (req) => {
    const recordings = deps.recordings
    if (recordings === undefined) return { enabled: false, recordings: [] }
    const { limit } = req.query as { limit: number }
    return {
      enabled: true,
      recordings: (await recordings.index.latest(limit)).map((r) => ({
        fileName: r.fileName,
        dn: r.legKey.slice(r.legKey.lastIndexOf('/') + 1),
        recordedAt: r.recordedAt,
        bytes: r.bytes,
        url: recordingUrl('', r.token, r.fileName)
      }))
    }
  })

  app.get('/console/api/directory', {
    preHandler: guard,
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            extensions: {
              type: 'array',
              items: { type: 'object', properties: { number: { type: 'string' }, registered: { type: 'boolean' }, queueStatus: { type: 'string' }, profile: { type: 'string' } } }
            },
            queues: {
              type: 'array',
              items: { type: 'object', properties: { number: { type: 'string' }, name: { type: 'string' }, agents: { type: 'array', items: { type: 'string' } } } }
            }
          }
        },
        401: errorSchema,
        502: errorSchema,
        503: errorSchema,
        504: errorSchema
      }
    }
  }, async () => {
    // From the directory cache (refreshed on its TTLs); live states come with the calls over SSE.
    const [users, queues] = await Promise.all([directory.users(), directory.queues()])
    return {
      extensions: users.list.map((u) => ({ number: u.number, registered: u.registered, queueStatus: u.queueStatus, profile: u.currentProfile })),
      queues: queues.list.map((q) => ({ number: q.number, name: q.name, agents: q.members }))
    }
  })

  app.get('/console/api/system', { preHandler: guard, schema: { response: { 200: { type: 'object', additionalProperties: true }, 401: errorSchema } } },
    async () => await systemStatus(deps, opts.checks, startedAt, pbxVersion))

  // The delivery log, redeliver and test event: the API's own routes behind the session check.
  if (deps.outbox !== undefined && opts.deliveryRoutes !== undefined) await app.register(opts.deliveryRoutes, { prefix: '/console/api', preHandler: guard })
}
