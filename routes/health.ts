// Liveness, readiness and metrics. No key needed: they carry no secret and no call data.
import type { FastifyInstance } from 'fastify'
import type {} from '@fastify/swagger'
import { evaluateReadiness, type ReadinessCheck } from '../src/health.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { VERSION } from '../src/version.js'
import { demoExamples } from '../src/demo-simulator.js'

export interface HealthRoutesOptions {
  checks: readonly ReadinessCheck[]
  metrics?: GatewayMetrics
  startedAt: number
}

const checkSchema = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, degraded: { type: 'boolean' }, detail: { type: 'string' } }, required: ['ok'] }
}
const readinessSchema = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    mode: { type: 'string' },
    degraded: { type: 'array', items: { type: 'string' }, description: 'Checks that work but need attention (e.g. a disabled webhook target); they do not make the gateway unready' },
    checks: checkSchema,
    stream: {
      type: 'object',
      description: 'Which replica holds the PBX event stream: role `single` (SQLite, one process), `holder` or `standby` (replicas on PostgreSQL)',
      properties: {
        role: { type: 'string', enum: ['single', 'holder', 'standby'] },
        pbxId: { type: 'string' },
        replica: { type: 'string' },
        holder: { type: ['string', 'null'] },
        holderSince: { type: ['string', 'null'] }
      }
    }
  }
}

export default async function healthRoutes (app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  const demo = app.gateway.config.demo
  const simulator = app.gateway.simulatorUrl

  app.get('/healthz', {
    schema: {
      summary: 'Liveness: the process is up',
      tags: ['health'],
      response: {
        200: {
          type: 'object',
          properties: {
            status: { type: 'string' },
            product: { type: 'string' },
            version: { type: 'string' },
            mode: { type: 'string', enum: ['demo', 'pbx'] },
            simulator: { type: 'string' },
            uptimeS: { type: 'integer' },
            examples: { type: 'array', items: { type: 'string' } }
          }
        }
      }
    }
  }, async (req) => {
    const base = `${req.protocol}://${req.host}`
    return {
      status: 'ok',
      product: '3cx-gateway',
      version: VERSION,
      mode: demo ? 'demo' : 'pbx',
      ...(simulator !== undefined ? { simulator } : {}),
      uptimeS: Math.floor((Date.now() - opts.startedAt) / 1000),
      ...(demo ? { examples: demoExamples(base) } : {})
    }
  })

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: PBX reachable, token valid, WebSocket connected, gateway.db readable and writable; degraded parts (webhook targets disabled or failing) listed without making it unready',
      tags: ['health'],
      response: {
        200: readinessSchema,
        503: readinessSchema
      }
    }
  }, async (_req, reply) => {
    const report = await evaluateReadiness(opts.checks)
    const stream = app.gateway.stream?.()
    return await reply.code(report.ready ? 200 : 503).send({ ready: report.ready, mode: demo ? 'demo' : 'pbx', degraded: report.degraded, checks: report.checks, ...(stream !== undefined ? { stream } : {}) })
  })

  const metrics = opts.metrics ?? app.gateway.metrics
  if (metrics !== undefined) {
    app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['health'], hide: false } }, async (_req, reply) => {
      const registry = await metrics.registry()
      const text = await registry.metrics()
      return await reply.type(registry.contentType).send(text)
    })
  }
}
