// The 3CX V20 simulator: one Fastify server with 3CX's token endpoint, XAPI, Call Control (REST and
// WebSocket) and the simulator's own /_sim control API. Used by every test, by demo mode and
// standalone (`3cx-gateway sim`). See docs/simulator.md.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Socket } from 'node:net'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { SimAuth, type SimAuthOptions } from './sim-auth.js'
import { SimFaults } from './faults.js'
import { seedDirectory } from './seed.js'
import { REQUEST_LOG_LIMIT, type SimContext } from './sim-context.js'
import { tokenRoute } from './token-route.js'
import { CallEngine } from './engine/call-engine.js'
import { xapiPlugin } from './xapi/xapi-plugin.js'
import { EntityStore } from './xapi/entity-store.js'
import type { OutboundRuleRow } from './engine/outbound-rules.js'
import type { SimTiming } from './engine/sim-timing.js'
import { definitionToDirectory, type PbxDefinition } from './pbx-definition.js'
import { loadState, saveState } from './sim-state.js'
import type { SimDirectory } from './sim-types.js'
import { callControlPlugin } from './callcontrol/callcontrol-plugin.js'
import { controlPlugin } from './control/control-plugin.js'
import { removeLeftByGone } from '../process-alive.js'
import type { TlsMaterial } from './tls-cert.js'
import { sharedCompilers } from '../schema-compilers.js'

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number
  host?: string
  /** Where WAV recordings are written; default a new temp folder. */
  recordingsDir?: string
  seed?: number
  auth?: Partial<SimAuthOptions>
  /** A pino logger or `false` (default: silent). */
  logger?: FastifyBaseLogger | false
  /** Serve https and wss on the same port with this certificate and key (PEM). */
  tls?: TlsMaterial
  /** The PBX to simulate (pbx-definition.ts); default the built-in one (pbx/default.yaml). */
  pbx?: PbxDefinition
  /** Keep the PBX's state (created/changed entities) in this JSON file across restarts. */
  statePath?: string
  /** The simulator's own durations (makecall answers and talk, recording delays…; docs/simulator.md "Timing"). */
  timing?: Partial<SimTiming>
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:5001 (https://… with TLS) — what the gateway's PBX_URL would be. */
  url: string
  port: number
  app: FastifyInstance
  ctx: SimContext
  /** Back to seed data, no calls, no faults. */
  reset(): void
  close(): Promise<void>
}

const PBX_PATH = /^\/(xapi\/|callcontrol)/

/**
 * A fresh recordings folder in tmp for a simulator given none, `3cx-sim-rec-<pid>-…`; close() removes it,
 * and one a killed process left is removed here.
 */
async function ownRecordingsDir (): Promise<string> {
  const tmp = os.tmpdir()
  await removeLeftByGone(tmp, (name) => {
    const pid = /^3cx-sim-rec-(\d+)-/.exec(name)?.[1]
    return pid === undefined ? undefined : Number(pid)
  })
  return await mkdtemp(path.join(tmp, `3cx-sim-rec-${process.pid}-`))
}

export async function createSimulator (opts: SimulatorOptions = {}): Promise<Simulator> {
  const recordingsDir = opts.recordingsDir ?? await ownRecordingsDir()
  const seed = opts.seed ?? 1
  const freshDirectory = (): SimDirectory => opts.pbx === undefined ? seedDirectory() : definitionToDirectory(opts.pbx)
  const saved = opts.statePath === undefined ? null : loadState(opts.statePath)
  const directory = saved?.directory ?? freshDirectory()
  const faults = new SimFaults()
  const ctx: SimContext = {
    directory,
    store: undefined as unknown as EntityStore,
    recordingsDir,
    seed,
    faults,
    requestLog: [],
    restorePbx: () => {
      ctx.directory = freshDirectory()
      ctx.store = new EntityStore(() => ctx.directory, { sets: opts.pbx?.entities })
      persist()
    },
    auth: undefined as unknown as SimAuth,
    engine: undefined as unknown as CallEngine
  }
  ctx.auth = new SimAuth(() => ctx.directory.apiClients, { lifetimeS: 3600, expiresInUnit: 'seconds', ...opts.auth })
  ctx.engine = new CallEngine({
    directory: () => ctx.directory,
    recordingsDir,
    seed,
    outboundRules: () => ctx.store.rows('OutboundRules') as OutboundRuleRow[],
    timing: opts.timing
  })
  ctx.store = new EntityStore(() => ctx.directory, saved?.store ?? { sets: opts.pbx?.entities })
  const persist = (): void => { if (opts.statePath !== undefined) saveState(opts.statePath, ctx.directory, ctx.store.snapshot()) }
  faults.on('revokeTokens', () => { ctx.auth.revokeAll() })

  const common = {
    forceCloseConnections: true,
    bodyLimit: 1_048_576,
    // Real 3CX paths contain parentheses, quotes and commas; keep them as they are.
    routerOptions: { maxParamLength: 2000, ignoreTrailingSlash: true },
    // Every simulator of the process (tests start one per case) shares the compiled schemas.
    schemaController: { compilersFactory: sharedCompilers }
  }
  const server = opts.tls === undefined ? {} : { https: { cert: opts.tls.cert, key: opts.tls.key } }
  const app = (opts.logger === undefined || opts.logger === false
    ? Fastify({ ...common, ...server, logger: false })
    : Fastify({ ...common, ...server, loggerInstance: opts.logger })) as unknown as FastifyInstance

  // Track sockets so "down" can cut every connection at once (with TLS: the TLS sockets, which
  // are what requests see).
  const sockets = new Set<Socket>()
  app.server.on(opts.tls === undefined ? 'connection' : 'secureConnection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  // Sockets serving a /_sim request right now survive "down", so POST /_sim/faults gets its answer.
  const controlSockets = new Set<Socket>()
  faults.on('down', (down: boolean) => {
    if (down) for (const s of sockets) if (!controlSockets.has(s)) s.destroy()
  })

  app.addHook('onRequest', async (req, reply) => {
    const url = req.url
    if (url.startsWith('/_sim')) {
      controlSockets.add(req.raw.socket)
      return
    }
    if (faults.settings.down) {
      req.raw.socket.destroy()
      return await reply.hijack()
    }
    if (!PBX_PATH.test(url)) return
    if (faults.settings.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.settings.latencyMs))
    const check = ctx.auth.check(req.headers.authorization)
    if (!check.ok) {
      return await reply.code(401).send({ error: { code: 'Unauthorized', message: `Bearer token ${check.reason}` } })
    }
    const isXapi = url.startsWith('/xapi/')
    if (isXapi && !check.client.xapi) {
      return await reply.code(403).send({ error: { code: 'Forbidden', message: 'XAPI access is not enabled for this client' } })
    }
    if (!isXapi && !check.client.callControl) {
      return await reply.code(403).send({ error: { code: 'Forbidden', message: 'Call Control API access is not enabled for this client' } })
    }
    req.simClient = check.client
    if (isXapi && faults.settings.xapiErrorRate > 0 && Math.random() < faults.settings.xapiErrorRate) {
      const code = [500, 503, 504][Math.floor(Math.random() * 3)]
      return await reply.code(code).send({ error: { code: String(code), message: 'Injected fault' } })
    }
  })
  app.addHook('onResponse', async (req, reply) => {
    if (req.url.startsWith('/_sim')) controlSockets.delete(req.raw.socket)
    if (!PBX_PATH.test(req.url)) return
    ctx.requestLog.push({ at: Date.now(), method: req.method, url: req.url, status: reply.statusCode })
    if (req.method !== 'GET' && reply.statusCode < 300 && req.url.startsWith('/xapi/')) persist()
    if (ctx.requestLog.length > REQUEST_LOG_LIMIT) ctx.requestLog.splice(0, ctx.requestLog.length - REQUEST_LOG_LIMIT)
  })

  await app.register(tokenRoute, { ctx })
  await app.register(xapiPlugin, { ctx, prefix: '/xapi/v1' })
  await app.register(callControlPlugin, { ctx })
  await app.register(controlPlugin, { ctx, prefix: '/_sim' })

  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const host = opts.host === undefined || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host

  return {
    url: `${opts.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    app,
    ctx,
    reset () {
      ctx.engine.reset()
      ctx.restorePbx()
      ctx.faults.apply({})
      ctx.requestLog.length = 0
    },
    async close () {
      ctx.engine.stop()
      faults.close()
      // Aborted recording writes still clean up their temp files: wait, so the folder can go.
      await Promise.all([app.close(), ctx.engine.recordingsSettled()])
      // A folder the simulator made itself (no recordingsDir given) goes with it: every start made one in tmp.
      if (opts.recordingsDir === undefined) await rm(recordingsDir, { recursive: true, force: true })
    }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client whose bearer token authenticated this PBX request. */
    simClient?: import('./sim-types.js').SimApiClient
  }
}
