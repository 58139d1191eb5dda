// 3CX V20 Call Control as the simulator serves it (3cx-v20.md §5–6, simulator.md "Call Control"):
// REST on /callcontrol (with the route point's audio streams) and the WebSocket /callcontrol/ws,
// limited to what the API client may see (its route point and monitored DNs). The simulator's
// onRequest hook authenticates REST requests and sets `req.simClient`; the WebSocket upgrade
// bypasses Fastify's hooks, so it is authenticated here.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CallControlRequestBody, CallControlResult, CallParticipant } from '../../pbx/callcontrol-types.js'
import type { SimContext } from '../sim-context.js'
import type { SimApiClient } from '../sim-types.js'
import { PCM_BYTES_PER_MS, SimActionError, SimRefusal, SimScriptError } from '../engine/call-engine.js'
import { findDn } from '../engine/dn-lookup.js'
import { callControlEventsOf } from './cc-events.js'
import {
  actionParams, deviceParams, deviceSchema, dnInfoSchema, dnParams, participantParams, participantSchema,
  requestBodySchema, resultSchema, type PARTICIPANT_ACTIONS
} from './callcontrol-schemas.js'
import { canSee, devicesOf, dnInfo, visibleDns } from './dn-visibility.js'
import { callerAudio } from './caller-audio.js'
import { planWsRequest, wsResponse } from './ws-requests.js'

/** A prompt streamed in may last this long (10 minutes of PCM); longer bodies are cut off. */
const MAX_PROMPT_BYTES = 10 * 60_000 * PCM_BYTES_PER_MS
/** DNs that place calls: extensions, the route point, and queues and IVRs (campaigns). */
const CALLING_KINDS = new Set(['extension', 'routepoint', 'queue', 'ivr'])

const WS_PATH = /^\/callcontrol\/ws\/?(?:\?.*)?$/

class CcError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

/** A connected WebSocket, with the Authorization header it was opened with (its requests use it). */
interface WsClient { ws: WebSocket, clientId: string, authorization: string }

function success (p: CallParticipant | null, reasontext = ''): CallControlResult {
  return { finalstatus: 'Success', reason: 'None', reasontext, result: p }
}

function rejectUpgrade (socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify({ error: { code: text.replace(/\s/g, ''), message } })
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

export async function callControlPlugin (app: FastifyInstance, opts: { ctx: SimContext }): Promise<void> {
  const { ctx } = opts
  const events = callControlEventsOf(ctx)

  const clientOf = (req: FastifyRequest): SimApiClient => {
    if (req.simClient === undefined) throw new CcError(401, 'Unauthorized', 'Bearer token missing')
    return req.simClient
  }
  /** The DN must exist and be visible to the client. */
  const visibleDn = (req: FastifyRequest, dn: string): { client: SimApiClient, entry: NonNullable<ReturnType<typeof findDn>> } => {
    const client = clientOf(req)
    const entry = findDn(ctx.directory, dn)
    const foreignRoutePoint = entry?.kind === 'routepoint' && entry.dn !== client.clientId
    if (entry === undefined || foreignRoutePoint) throw new CcError(404, 'NotFound', `DN ${dn} does not exist`)
    if (!canSee(client, dn)) {
      throw new CcError(403, 'Forbidden', `DN ${dn} is not monitored by API client ${client.clientId}; add it to the client's monitored DNs (Admin > Integrations > API)`)
    }
    return { client, entry }
  }
  const participantOf = (req: FastifyRequest, dn: string, id: number): CallParticipant => {
    visibleDn(req, dn)
    const p = ctx.engine.participant(dn, id)
    if (p === undefined) throw new CcError(404, 'NotFound', `participant ${id} of DN ${dn} does not exist (any more)`)
    return p
  }

  // 3CX takes actions with an empty body (Content-Type: application/json and nothing after it):
  // such a request is handled as one without a body.
  app.addHook('onRequest', async (req) => {
    const h = req.headers
    if (h['content-length'] === '0' && h['transfer-encoding'] === undefined) delete h['content-type']
  })
  // Prompts arrive as a chunked octet stream; the route reads it as it comes.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => { done(null, payload) })

  app.setErrorHandler(async (err: Error & { statusCode?: number, validation?: unknown }, req, reply) => {
    const isAction = req.method === 'POST'
    let status = 500
    let code = 'InternalError'
    let message = 'internal simulator error'
    if (err instanceof CcError) {
      ({ status, code } = err)
      message = err.message
    } else if (err instanceof SimRefusal) {
      status = 422; code = err.reason; message = err.message
    } else if (err instanceof SimScriptError) {
      status = 400; code = 'BadRequest'; message = err.message
    } else if (err instanceof SimActionError) {
      status = 422; code = 'UnprocessableEntity'; message = err.message
    } else if (err.validation !== undefined || (err.statusCode !== undefined && err.statusCode < 500)) {
      status = err.statusCode ?? 400; code = 'BadRequest'; message = err.message
    } else {
      req.log.error({ err }, 'call control route failed')
    }
    const body = isAction
      ? { finalstatus: 'Failed', reason: code, reasontext: message, error: { code, message } }
      : { error: { code, message } }
    return await reply.code(status).send(body)
  })

  app.get('/callcontrol', { schema: { response: { 200: { type: 'array', items: dnInfoSchema } } } }, async (req) => {
    const client = clientOf(req)
    return visibleDns(ctx.directory, client).map((d) => dnInfo(ctx.directory, ctx.engine, d))
  })

  // A plain GET on the WebSocket path (no upgrade) – the upgrade itself is handled below.
  app.get('/callcontrol/ws', async (_req, reply) => {
    return await reply.code(426).header('upgrade', 'websocket').send({ error: { code: 'UpgradeRequired', message: 'GET /callcontrol/ws is a WebSocket endpoint; send an Upgrade: websocket request' } })
  })

  app.get<{ Params: { dn: string } }>('/callcontrol/:dn', { schema: { params: dnParams, response: { 200: dnInfoSchema } } }, async (req) => {
    const { entry } = visibleDn(req, req.params.dn)
    return dnInfo(ctx.directory, ctx.engine, entry)
  })

  app.get<{ Params: { dn: string } }>('/callcontrol/:dn/participants', {
    schema: { params: dnParams, response: { 200: { type: 'array', items: participantSchema } } }
  }, async (req) => {
    visibleDn(req, req.params.dn)
    return ctx.engine.participants(req.params.dn)
  })

  app.get<{ Params: { dn: string, id: number } }>('/callcontrol/:dn/participants/:id', {
    schema: { params: participantParams, response: { 200: participantSchema } }
  }, async (req) => participantOf(req, req.params.dn, req.params.id))

  app.get<{ Params: { dn: string } }>('/callcontrol/:dn/devices', {
    schema: { params: dnParams, response: { 200: { type: 'array', items: deviceSchema } } }
  }, async (req) => {
    visibleDn(req, req.params.dn)
    return devicesOf(ctx.directory, req.params.dn)
  })

  const deviceOf = (req: FastifyRequest, dn: string, deviceId: string): ReturnType<typeof devicesOf>[number] => {
    visibleDn(req, dn)
    const device = devicesOf(ctx.directory, dn).find((d) => d.device_id === deviceId)
    if (device === undefined) throw new CcError(404, 'NotFound', `DN ${dn} has no registered device ${deviceId}`)
    return device
  }

  app.get<{ Params: { dn: string, deviceid: string } }>('/callcontrol/:dn/devices/:deviceid', {
    schema: { params: deviceParams, response: { 200: deviceSchema } }
  }, async (req) => deviceOf(req, req.params.dn, req.params.deviceid))

  const makeCall = (req: FastifyRequest, dn: string, body: CallControlRequestBody | null | undefined): CallControlResult => {
    const { entry } = visibleDn(req, dn)
    if (!CALLING_KINDS.has(entry.kind)) {
      throw new CcError(400, 'BadRequest', `DN ${dn} is a ${entry.kind}; only extensions, the route point, queues and IVRs can place calls`)
    }
    if (typeof body?.destination !== 'string' || body.destination === '') throw new CcError(400, 'BadRequest', 'destination is required')
    return success(ctx.engine.makeCall(dn, body.destination, { refusals: true }))
  }

  app.post<{ Params: { dn: string }, Body: CallControlRequestBody | null }>('/callcontrol/:dn/makecall', {
    schema: { params: dnParams, body: requestBodySchema, response: { 200: resultSchema } }
  }, async (req) => makeCall(req, req.params.dn, req.body))

  app.post<{ Params: { dn: string, deviceid: string }, Body: CallControlRequestBody | null }>('/callcontrol/:dn/devices/:deviceid/makecall', {
    schema: { params: deviceParams, body: requestBodySchema, response: { 200: resultSchema } }
  }, async (req) => {
    deviceOf(req, req.params.dn, req.params.deviceid)
    return makeCall(req, req.params.dn, req.body)
  })

  type Action = typeof PARTICIPANT_ACTIONS[number]
  app.post<{ Params: { dn: string, id: number, action: Action }, Body: CallControlRequestBody | null }>('/callcontrol/:dn/participants/:id/:action', {
    schema: { params: actionParams, body: requestBodySchema, response: { 200: resultSchema } }
  }, async (req) => {
    const { dn, id, action } = req.params
    const p = participantOf(req, dn, id)
    const destination = req.body?.destination ?? ''
    const needDestination = (): string => {
      if (destination === '') throw new CcError(400, 'BadRequest', `${action} needs a destination`)
      return destination
    }
    switch (action) {
      case 'drop':
        ctx.engine.dropParticipant(dn, id)
        return success(p)
      case 'answer': {
        const isRoutePoint = findDn(ctx.directory, dn)?.kind === 'routepoint'
        if (!p.direct_control && !isRoutePoint) {
          throw new CcError(422, 'UnprocessableEntity', `participant ${id} is on a device without direct control (uaCSTA); the phone itself must answer`)
        }
        return success(ctx.engine.answerParticipant(dn, id))
      }
      case 'divert':
        return success(ctx.engine.divertParticipant(dn, id, needDestination()))
      case 'routeto':
        return success(p.status === 'Connected'
          ? ctx.engine.transferParticipant(dn, id, needDestination())
          : ctx.engine.divertParticipant(dn, id, needDestination()))
      case 'transferto':
        return success(ctx.engine.transferParticipant(dn, id, needDestination()))
      case 'attach_participant_data':
        return success(ctx.engine.attachParticipantData(dn, id, req.body?.attacheddata ?? {}))
    }
  })

  // ---- audio of route-point participants ------------------------------------------------------

  /** Audio streams exist for the route point's own participants only. */
  const streamParticipant = (req: FastifyRequest, dn: string, id: number): CallParticipant => {
    const p = participantOf(req, dn, id)
    if (findDn(ctx.directory, dn)?.kind !== 'routepoint') {
      throw new CcError(422, 'UnprocessableEntity', `participant ${id} of DN ${dn} has no audio stream; streams exist for route-point participants only`)
    }
    return p
  }

  app.get<{ Params: { dn: string, id: number } }>('/callcontrol/:dn/participants/:id/stream', {
    schema: { params: participantParams }
  }, async (req, reply) => {
    const { dn, id } = req.params
    const p = streamParticipant(req, dn, id)
    const audio = callerAudio(p.callid, () => ctx.engine.participant(dn, id) !== undefined)
    return await reply.header('content-type', 'application/octet-stream').send(audio)
  })

  app.post<{ Params: { dn: string, id: number }, Body: AsyncIterable<Buffer> | null | undefined }>('/callcontrol/:dn/participants/:id/stream', {
    schema: { params: participantParams, response: { 200: resultSchema } }
  }, async (req) => {
    const { dn, id } = req.params
    const p = streamParticipant(req, dn, id)
    let bytes = 0
    if (req.body !== null && req.body !== undefined && Symbol.asyncIterator in Object(req.body)) {
      for await (const chunk of req.body) {
        bytes += chunk.length
        if (bytes > MAX_PROMPT_BYTES) throw new CcError(413, 'PayloadTooLarge', `a prompt may last ${MAX_PROMPT_BYTES / PCM_BYTES_PER_MS / 60_000} minutes of PCM 16-bit 8 kHz mono`)
        if (!ctx.engine.streamPrompt(dn, id, { chunk: chunk.length })) break
      }
    }
    ctx.engine.streamPrompt(dn, id, 'done')
    return success(p)
  })

  // ---- WebSocket ----------------------------------------------------------------------------

  const wss = new WebSocketServer({ noServer: true, clientTracking: false })
  const clients = new Set<WsClient>()

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => { socket.destroy() })
    if (!WS_PATH.test(req.url ?? '')) { rejectUpgrade(socket, 404, 'Not Found', 'only /callcontrol/ws accepts WebSocket upgrades'); return }
    if (ctx.faults.settings.down) { socket.destroy(); return }
    const check = ctx.auth.check(req.headers.authorization)
    if (!check.ok) { rejectUpgrade(socket, 401, 'Unauthorized', `Bearer token ${check.reason}`); return }
    if (!check.client.callControl) { rejectUpgrade(socket, 403, 'Forbidden', 'Call Control API access is not enabled for this client'); return }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client: WsClient = { ws, clientId: check.client.clientId, authorization: req.headers.authorization ?? '' }
      clients.add(client)
      ws.on('message', (data, isBinary) => { if (!isBinary) void answerRequest(client, String(data)) })
      ws.on('close', () => { clients.delete(client) })
      ws.on('error', () => { ws.terminate() })
    })
  }
  app.server.on('upgrade', onUpgrade)

  /** A request sent over the WebSocket, played as its REST request; the answer is an event 4 on that socket. */
  const answerRequest = async (client: WsClient, text: string): Promise<void> => {
    const plan = planWsRequest(text)
    let status: number
    let response: unknown
    if (!plan.ok) {
      status = plan.status
      response = { error: { code: 'BadRequest', message: plan.message } }
    } else {
      const res = await app.inject({
        method: plan.method,
        url: plan.path,
        headers: plan.body === undefined ? { authorization: client.authorization } : { authorization: client.authorization, 'content-type': 'application/json' },
        ...(plan.body === undefined ? {} : { payload: JSON.stringify(plan.body) })
      })
      status = res.statusCode
      try { response = res.json() } catch { response = res.body }
    }
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(wsResponse(events.reserveSequence(), plan, status, response)))
  }

  const unsubscribe = events.subscribe((event, message) => {
    if (clients.size === 0) return
    for (const c of clients) {
      const apiClient = ctx.directory.apiClients.find((a) => a.clientId === c.clientId)
      if (apiClient === undefined) { c.ws.terminate(); continue }
      if (canSee(apiClient, event.dn)) c.ws.send(message)
    }
  })

  const dropAll = (): void => {
    for (const c of clients) c.ws.terminate()
    clients.clear()
  }
  const onDown = (down: boolean): void => { if (down) dropAll() }
  ctx.faults.on('dropWebSocket', dropAll)
  ctx.faults.on('revokeTokens', dropAll)
  ctx.faults.on('down', onDown)

  // Before the server waits for its connections: upgraded sockets would keep it open.
  app.addHook('preClose', async () => { dropAll() })
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade)
    ctx.faults.off('dropWebSocket', dropAll)
    ctx.faults.off('revokeTokens', dropAll)
    ctx.faults.off('down', onDown)
    unsubscribe()
    dropAll()
    wss.close()
  })
}
