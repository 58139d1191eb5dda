// Builds the gateway's Fastify instance from plugins. server.ts only starts it; tests call
// buildApp() and use app.inject() or listen on port 0.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import rateLimit, { rateLimitOptions } from './plugins/external/rate-limit.js'
import gateway, { type GatewayDeps } from './plugins/app/gateway.js'
import errorHandler, { frameworkErrors } from './plugins/app/error-handler.js'
import { answerClientError } from './client-error.js'
import { answerHalfClosedClients } from './half-open.js'
import auth, { type AuthOptions } from './plugins/app/auth.js'
import swagger from './plugins/external/swagger.js'
import duplicateParameters from './legacy/duplicate-parameters.js'
import requestMetrics from './plugins/app/request-metrics.js'
import cors from './plugins/external/cors.js'
import securityHeaders from './plugins/external/security-headers.js'
import socketTimeout from './plugins/app/socket-timeout.js'
import type { ReadinessCheck } from './health.js'
import { lazyChildLoggerFactory } from './request-logger.js'
import { sharedCompilers } from './schema-compilers.js'
import { QueryNames } from './query-names.js'
import legacyRoutes from '../routes/legacy/index.js'
import reportRoutes from '../routes/reports.js'
import healthRoutes from '../routes/health.js'
import webhookRoutes from '../routes/webhooks.js'
import recordingRoutes from '../routes/recordings.js'
import consolePlugin from './console/index.js'

export interface BuildAppOptions {
  /** Fastify/pino logger options; tests pass `{ level, stream }` to capture log lines. */
  logger?: FastifyServerOptions['logger']
  /** An existing pino logger (server.ts), instead of `logger`. */
  loggerInstance?: FastifyBaseLogger
  /** Failed-auth and per-key rate limits (tests make them small). */
  auth?: AuthOptions
  /** Readiness checks for /readyz (default: none, always ready). */
  checks?: readonly ReadinessCheck[]
  /** Idle time after which a connection answering a request is closed (default SOCKET_TIMEOUT_MS; tests make it short). */
  socketTimeoutMs?: number
  /** TLS certificate and key: serve HTTPS directly. */
  https?: { cert: Buffer, key: Buffer }
}

export async function buildApp (deps: GatewayDeps, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  // Query parameter names in any case, or as a one-value `name[]` list, read as the routes spell them.
  const queryNames = new QueryNames()
  const common = {
    routerOptions: { maxParamLength: 500, querystringParser: queryNames.parse },
    bodyLimit: 65_536,
    // Explicit server timeouts: slow clients cannot hold sockets forever. No connectionTimeout: the
    // socket-timeout plugin arms the idle timeout while a request is answered (it costs a timer per request).
    requestTimeout: 60_000,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    trustProxy: deps.config.trustProxy,
    return503OnClosing: true,
    frameworkErrors,
    // What Node's HTTP parser refuses (a raw byte outside ASCII in the URL, …), in the API's error shape.
    clientErrorHandler: answerClientError,
    // Each request's child logger is built only when the request logs something.
    childLoggerFactory: lazyChildLoggerFactory,
    // Validators and serializers compiled once per process, whatever the number of apps (tenants, restarts).
    schemaController: { compilersFactory: sharedCompilers }
  }
  const logging = opts.loggerInstance !== undefined ? { loggerInstance: opts.loggerInstance } : { logger: opts.logger ?? false }
  const app = (opts.https !== undefined
    ? Fastify({ ...common, ...logging, https: opts.https })
    : Fastify({ ...common, ...logging })) as unknown as FastifyInstance
  app.addHook('onRoute', (route) => { queryNames.learn(route.schema?.querystring) })
  answerHalfClosedClients(app.server)

  // External plugins (src/plugins/external/: the Fastify ecosystem and helmet, configured)
  await app.register(rateLimit, rateLimitOptions)
  await app.register(securityHeaders, { servesTls: opts.https !== undefined })
  await app.register(cors, { origins: deps.config.corsOrigins })
  // App plugins (src/plugins/app/: the gateway's services, metrics, errors, keys)
  await app.register(gateway, { deps })
  await app.register(socketTimeout, { ms: opts.socketTimeoutMs })
  await app.register(requestMetrics)
  await app.register(errorHandler)
  await app.register(auth, opts.auth ?? {})
  await app.register(duplicateParameters)
  // External again: the docs collect every route registered after them.
  await app.register(swagger)
  // Routes
  await app.register(healthRoutes, { checks: opts.checks ?? [], startedAt: Date.now() })
  // Services a test may leave out: their routes are registered only when the service exists.
  if (deps.outbox !== undefined) await app.register(webhookRoutes)
  if (deps.recordings !== undefined) await app.register(recordingRoutes)
  await app.register(legacyRoutes)
  await app.register(reportRoutes)
  await app.register(consolePlugin, { checks: opts.checks ?? [], deliveryRoutes: webhookRoutes })
  return app
}
