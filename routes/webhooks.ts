// Webhook admin (webhooks.md §4 "Visibility"): the delivery log and re-sending one delivery.
// Control key: the auth plugin's control-scope check by default, or the `preHandler` option.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody } from '../src/legacy/legacy-error.js'
import { requireScope } from '../src/plugins/app/auth.js'
import { errorSchema } from '../src/schemas/shared.js'
import { isStorageError } from '../src/storage-health.js'
import { LISTED_STATUSES, type ListedStatus, type OutboxStore } from '../src/webhooks/outbox-store.js'
import type { WebhookDelivery } from '../src/webhooks/delivery.js'
import { sendTestEvent } from '../src/webhooks/test-event.js'

export interface WebhookRoutesOptions {
  /** Default: `app.gateway.outbox`. */
  outbox?: OutboxStore
  /** Default: `app.gateway.webhookDelivery`; only used to report target stats. */
  delivery?: WebhookDelivery
  /** Key check; default the auth plugin's control-scope check when it is registered. */
  preHandler?: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
}

const nullableString = { type: ['string', 'null'] }
const nullableInteger = { type: ['integer', 'null'] }

const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    eventId: { type: 'integer' },
    messageId: { type: 'string', description: 'The `webhook-id` header: the receiver\'s idempotency key' },
    event: { type: 'string' },
    legacyId: { type: 'string' },
    target: { type: 'string' },
    chain: { type: 'string' },
    status: { type: 'string', enum: LISTED_STATUSES, description: 'pending: not tried yet; retrying: tried, failed, will be tried again; done: delivered (2xx); failed: given up' },
    attempts: { type: 'integer' },
    nextAt: nullableString,
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    lastStatus: nullableInteger,
    lastError: nullableString,
    lastAttempt: {
      type: ['object', 'null'],
      properties: { at: { type: 'string' }, statusCode: nullableInteger, durationMs: { type: 'integer' }, error: nullableString, excerpt: nullableString }
    }
  }
}

export default async function webhookRoutes (app: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const outbox = opts.outbox ?? app.gateway.outbox
  if (outbox === undefined) throw new Error('webhook routes: no outbox (pass `outbox` or decorate app.gateway.outbox)')
  const delivery = opts.delivery ?? app.gateway.webhookDelivery
  const preHandler = opts.preHandler ?? (app.hasDecorator('apiKeys') ? requireScope('control') : undefined)
  if (preHandler === undefined) throw new Error('webhook routes: no key check (pass `preHandler` or register the auth plugin)')

  app.get('/webhooks/deliveries', {
    preHandler,
    // A bad status is answered with the allowed ones (the generic validation message does not list them).
    attachValidation: true,
    schema: {
      summary: 'The webhook delivery log, newest first',
      tags: ['webhooks'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: LISTED_STATUSES },
          target: { type: 'string', maxLength: 100 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }
        }
      },
      response: {
        200: {
          type: 'object',
          properties: {
            count: { type: 'integer' },
            deliveries: { type: 'array', items: deliverySchema },
            targets: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' }, state: { type: 'string', enum: ['ok', 'failing', 'disabled'] }, lastError: nullableString,
                  disabled: { type: 'boolean' }, disabledReason: nullableString, queued: { type: 'integer' },
                  retrying: { type: 'integer', description: 'Of the queued deliveries, those already tried and failed (status retrying)' },
                  inFlight: { type: 'integer' }, attempts: { type: 'integer' }, failures: { type: 'integer' }, consecutiveFailures: { type: 'integer' }, delivered: { type: 'integer' }, lastSuccessAt: nullableString
                }
              }
            }
          }
        },
        400: errorSchema,
        401: errorSchema,
        403: errorSchema
      }
    }
  }, async (req, reply) => {
    const bad = req.validationError
    if (bad !== undefined) {
      if ((bad.validation ?? []).some((v: { instancePath?: string }) => v.instancePath === '/status')) {
        return await reply.code(400).send(errorBody('BAD_PARAMETER', `Parameter "status" must be one of ${LISTED_STATUSES.join(', ')}`))
      }
      throw bad
    }
    const q = req.query as { status?: ListedStatus, target?: string, limit?: number }
    const deliveries = await outbox.list(q)
    return { count: deliveries.length, deliveries, targets: delivery?.stats() ?? [] }
  })

  app.post('/webhooks/deliveries/:id/redeliver', {
    preHandler,
    schema: {
      summary: 'Send one delivery again (any status), at once',
      tags: ['webhooks'],
      params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
      response: {
        200: { type: 'object', properties: { result: { type: 'boolean' }, id: { type: 'integer' }, status: { type: 'string' } } },
        400: errorSchema,
        401: errorSchema,
        403: errorSchema,
        404: errorSchema,
        503: errorSchema
      }
    }
  }, async (req, reply) => {
    const { id } = req.params as { id: number }
    let job
    try {
      job = await outbox.redeliver(id)
    } catch (err) {
      if (!isStorageError(err)) throw err
      outbox.health.failed('delivery log', err)
      return await reply.code(503).send(errorBody('STORAGE_UNAVAILABLE', `${outbox.health.file} cannot be written (${(err as { code?: string }).code ?? 'error'}); free disk space, then send this again (see GET /readyz)`))
    }
    if (job === null) return await reply.code(404).send(errorBody('NOT_FOUND', `No webhook delivery with id ${id}; list them with GET /webhooks/deliveries`))
    return { result: true, id: job.id, status: 'pending' }
  })

  app.post('/webhooks/targets/:name/test', {
    preHandler,
    schema: {
      summary: 'Send one signed `test` event to a target now (not retried, not in the delivery log)',
      tags: ['webhooks'],
      params: { type: 'object', properties: { name: { type: 'string', maxLength: 100 } }, required: ['name'] },
      response: {
        200: {
          type: 'object',
          properties: {
            result: { type: 'boolean', description: 'true when the receiver answered 2xx' },
            target: { type: 'string' },
            messageId: { type: 'string' },
            statusCode: nullableInteger,
            durationMs: { type: 'integer' },
            error: nullableString,
            excerpt: nullableString
          }
        },
        401: errorSchema,
        403: errorSchema,
        404: errorSchema
      }
    }
  }, async (req, reply) => {
    const { name } = req.params as { name: string }
    const target = outbox.targets.find((t) => t.name === name)
    if (target === undefined) {
      return await reply.code(404).send(errorBody('NOT_FOUND', `No webhook target named "${name}"; the targets are ${outbox.targets.map((t) => t.name).join(', ') || 'none (set WEBHOOK_URLS)'}`))
    }
    const r = await sendTestEvent(target, app.gateway.config.webhooks.timeoutMs)
    return { result: r.ok, target: name, messageId: r.messageId, statusCode: r.statusCode, durationMs: r.durationMs, error: r.error, excerpt: r.excerpt }
  })
}
