// The simulator's own control API under /_sim (simulator.md §3; not part of 3CX): scripted calls,
// random traffic, fault injection, reset, and the log of sent Call Control events.
import type { FastifyInstance } from 'fastify'
import { ajvValidators } from '../../schema-compilers.js'
import type { SimContext } from '../sim-context.js'
import { SimScriptError, type CallScript } from '../engine/call-engine.js'
import { SCRIPT_LIMITS } from '../engine/call-script.js'
import { callControlEventsOf } from '../callcontrol/cc-events.js'
import { TRAFFIC_LIMITS, TrafficGenerator, type TrafficOptions } from '../traffic.js'
import type { FaultSettings } from '../faults.js'

const ms = (max: number): Record<string, unknown> => ({ type: 'integer', minimum: 0, maximum: max })
const dnString = { type: 'string', minLength: 1, maxLength: 32 } as const

const scriptSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    from: dnString,
    to: dnString,
    answer: { anyOf: [dnString, { type: 'null' }] },
    ringMs: ms(SCRIPT_LIMITS.maxRingMs),
    talkMs: ms(SCRIPT_LIMITS.maxTalkMs),
    transfer: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'to'],
      properties: {
        kind: { type: 'string', enum: ['blind', 'attended'] },
        to: dnString,
        afterMs: ms(SCRIPT_LIMITS.maxTalkMs),
        answer: { type: 'boolean' }
      }
    },
    hangup: { type: 'string', enum: ['caller', 'callee'] },
    record: { type: 'boolean' },
    recordingSegments: { type: 'integer', minimum: 1, maximum: SCRIPT_LIMITS.maxSegments },
    menu: { type: 'string', pattern: '^[0-9*#]$' },
    overflow: dnString,
    dtmf: { type: 'string', pattern: '^[0-9*#]{1,32}$' },
    busy: { type: 'boolean' },
    callback: { type: 'boolean' }
  }
} as const

const trafficSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    callsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: TRAFFIC_LIMITS.maxCallsPerSecond },
    seconds: { type: 'number', exclusiveMinimum: 0, maximum: TRAFFIC_LIMITS.maxSeconds },
    seed: { type: 'integer' },
    maxRingMs: { type: 'integer', minimum: 1, maximum: SCRIPT_LIMITS.maxRingMs },
    maxTalkMs: { type: 'integer', minimum: 1, maximum: SCRIPT_LIMITS.maxTalkMs },
    recordShare: { type: 'number', minimum: 0, maximum: 1 },
    routePointShare: { type: 'number', minimum: 0, maximum: 1 },
    busy: { type: 'boolean' },
    callbackShare: { type: 'number', minimum: 0, maximum: 1 },
    stop: { type: 'boolean' }
  }
} as const

const faultsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dropWebSocket: { type: 'boolean' },
    revokeTokens: { type: 'boolean' },
    xapiErrorRate: { type: 'number', minimum: 0, maximum: 1 },
    latencyMs: { type: 'integer', minimum: 0, maximum: 60_000 },
    down: { type: 'boolean' },
    downForMs: { type: 'integer', minimum: 1, maximum: 3_600_000 }
  }
} as const

// Fastify's default validator silently drops unknown properties; a typo in a script or a fault
// must be an error instead. Compiled once per process for every simulator.
const controlValidators = ajvValidators({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false })

type FaultsBody = Partial<FaultSettings> & { dropWebSocket?: boolean, revokeTokens?: boolean, downForMs?: number }

export async function controlPlugin (app: FastifyInstance, opts: { ctx: SimContext }): Promise<void> {
  const { ctx } = opts
  const events = callControlEventsOf(ctx)
  const traffic = new TrafficGenerator(ctx.engine, () => ctx.directory, ctx.seed)

  app.setValidatorCompiler(controlValidators())

  app.setErrorHandler(async (err: Error & { statusCode?: number, validation?: unknown, code?: string }, req, reply) => {
    if (err instanceof SimScriptError) return await reply.code(400).send({ error: { code: 'INVALID_SCRIPT', message: err.message } })
    const status = err.statusCode ?? 500
    if (err.validation !== undefined || status < 500) {
      return await reply.code(status).send({ error: { code: 'BAD_REQUEST', message: err.message } })
    }
    req.log.error({ err }, 'simulator control route failed')
    return await reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal simulator error' } })
  })

  app.post<{ Body: CallScript }>('/calls', { schema: { body: scriptSchema } }, async (req, reply) => {
    return await reply.code(201).send(ctx.engine.startCall(req.body))
  })

  app.get<{ Params: { callid: number } }>('/calls/:callid', {
    schema: { params: { type: 'object', required: ['callid'], properties: { callid: { type: 'integer', minimum: 0 } } } }
  }, async (req, reply) => {
    const status = ctx.engine.callStatus(req.params.callid)
    if (status === null) return await reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no call ${req.params.callid} (unknown, or forgotten after a reset)` } })
    return status
  })

  app.post<{ Params: { callid: number }, Body: { digits: string } }>('/calls/:callid/dtmf', {
    schema: {
      params: { type: 'object', required: ['callid'], properties: { callid: { type: 'integer', minimum: 0 } } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['digits'],
        properties: { digits: { type: 'string', pattern: '^[0-9*#]{1,32}$' } }
      }
    }
  }, async (req, reply) => {
    const { callid } = req.params
    const heard = ctx.engine.pressDigits(callid, req.body.digits)
    if (heard === null) return await reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no call ${callid} in progress` } })
    if (heard.length === 0) {
      return await reply.code(409).send({ error: { code: 'NO_ROUTE_POINT', message: `call ${callid} has no connected route-point participant to hear the keys; answer it on the route point first` } })
    }
    return { callid, digits: req.body.digits, heardBy: heard.map((p) => ({ dn: p.dn, id: p.id })) }
  })

  app.post<{ Body: TrafficOptions & { stop?: boolean } }>('/traffic', { schema: { body: trafficSchema } }, async (req, reply) => {
    const body = req.body
    if (body.stop === true) {
      traffic.stop()
      return { stopped: true, ...traffic.status() }
    }
    if (body.callsPerSecond === undefined || body.seconds === undefined) {
      return await reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'callsPerSecond and seconds are required (or {"stop":true})' } })
    }
    const calls = traffic.start(body)
    return await reply.code(202).send({ calls, callsPerSecond: body.callsPerSecond, seconds: body.seconds, seed: body.seed ?? ctx.seed })
  })

  app.get('/traffic', async () => traffic.status())

  app.post<{ Body: FaultsBody }>('/faults', { schema: { body: faultsSchema } }, async (req) => {
    return ctx.faults.apply(req.body ?? {})
  })

  app.post('/reset', async () => {
    traffic.stop()
    ctx.engine.reset()
    ctx.restorePbx()
    ctx.faults.apply({})
    ctx.requestLog.length = 0
    return { reset: true }
  })

  app.get<{ Querystring: { since?: number, limit?: number } }>('/events', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { since: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 20_000 } }
      }
    }
  }, async (req) => {
    const list = events.since(req.query.since ?? 0)
    const limit = req.query.limit ?? 20_000
    return { lastSequence: events.lastSequence, events: list.slice(0, limit) }
  })

  app.addHook('onClose', async () => { traffic.stop() })
}
