// Builds the gateway's Fastify instance from plugins. server.ts only starts it; tests call
// buildApp() and use app.inject() or listen on port 0.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import gateway, { type GatewayDeps } from './plugins/gateway.js'

export interface BuildAppOptions {
  /** Fastify/pino logger options; tests pass `{ level, stream }` to capture log lines. */
  logger?: FastifyServerOptions['logger']
}

export async function buildApp (deps: GatewayDeps, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    routerOptions: { maxParamLength: 500 },
    bodyLimit: 65_536,
    requestTimeout: 60_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 72_000,
    trustProxy: deps.config.trustProxy,
    return503OnClosing: true
  })
  await app.register(gateway, { deps })
  return app
}
