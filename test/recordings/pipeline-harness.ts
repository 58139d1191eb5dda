// End-to-end set-up for the recordings pipeline: the simulator on 127.0.0.1:0 writing real WAVs,
// the real PBX clients (XAPI over HTTP, Call Control over WebSocket), the live call model, the
// recordings service and the gateway app serving the MP3s on 127.0.0.1:0. The simulator runs the PBX
// of SIM_PBX (test/sim/pbx-under-test.ts; default the built-in one) with its API client. The
// simulator writes its WAVs 20–100 ms after a leg (FAST_SIM_TIMING; a real PBX: 0.2–2 s), so the
// service waits 600 ms for more files of a leg and gives up on a leg with none after 1.5 s.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createPbxClients, type PbxClients } from '../../src/pbx/pbx-clients.js'
import { createSimulator, type Simulator } from '../../src/sim/simulator.js'
import type { CallScript } from '../../src/sim/engine/call-engine.js'
import { CallModel } from '../../src/calls/call-model.js'
import type { CallEvent, EndedPayload, RecordingPayload } from '../../src/calls/call-events.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { createRecordingService, type RecordingService } from '../../src/recordings/recording-service.js'
import { PBX } from '../sim/pbx-under-test.js'
import { FAST_SIM_TIMING } from '../sim/fast-timing.js'

export const READ_KEY = 'read-key-5f1c9a7e2b4d8f03'

export interface Pipeline {
  sim: Simulator
  config: Config
  clients: PbxClients
  service: RecordingService<SqliteRecordingIndex>
  app: FastifyInstance
  events: CallEvent[]
  /** `seen`: how many call events had been emitted when it was announced (for order checks). */
  announced: Array<{ event: CallEvent, seen: number }>
  /** Starts a scripted call in the simulator; resolves with its callid. */
  call: (script: CallScript) => Promise<number>
  /** Waits for the `recording` event with this legacy id (or fails after `ms`). */
  recording: (legacyId: string, ms?: number) => Promise<RecordingPayload>
  /** Waits for the call-ended event of `user` in call `callid`. */
  ended: (callid: number, user: string, ms?: number) => Promise<EndedPayload>
}

interface Teardown { teardown: (fn: () => unknown) => void }

async function waitFor<T> (what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function startPipeline (t: Teardown, opts: { source: 'dir' | 'xapi', env?: Record<string, string>, convertRetryMs?: number[] }): Promise<Pipeline> {
  const sim = await createSimulator({ ...PBX.simOptions, timing: FAST_SIM_TIMING })
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rec-pipeline-'))
  const config = loadConfig({
    PBX_URL: sim.url,
    PBX_CLIENT_ID: PBX.clientId,
    PBX_CLIENT_SECRET: PBX.secret,
    GATEWAY_KEYS: `${READ_KEY}:read`,
    RECORDINGS_SOURCE: opts.source,
    RECORDINGS_DIR: sim.ctx.recordingsDir,
    DATA_DIR: dataDir,
    ...opts.env
  })
  const clients = createPbxClients(config, { retry: { retries: 0 } })
  const events: CallEvent[] = []
  const announced: Pipeline['announced'] = []
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const service = createRecordingService({
    config,
    index: () => SqliteRecordingIndex.open(config.dataDir),
    xapi: clients.xapi,
    announce: (event) => { announced.push({ event, seen: events.length }) },
    log,
    pollMs: 100,
    lookEveryMs: 200,
    timing: { settleMs: 600, giveUpMs: 1500 },
    stableMs: 200,
    convertRetryMs: opts.convertRetryMs
  })
  if (service === null) throw new Error('recordings are off')
  const model = new CallModel({
    timeZone: 'UTC',
    graceMs: 300,
    internalCalls: true,
    onEvent: (e) => { events.push(e); service.onCallEvent(e) }
  })
  service.followCalls(model)
  clients.callControl.onChange((change) => { model.apply(change) })
  clients.callControl.start()
  await clients.callControl.ready()
  await service.start()
  const app = await buildApp({ config, xapi: clients.xapi, callControl: clients.callControl, calls: model, recordings: service })
  await app.listen({ port: 0, host: '127.0.0.1' })
  config.publicUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  t.teardown(async () => {
    model.stop()
    await app.close()
    await service.stop(5_000)
    service.index.close()
    await clients.close()
    await sim.close()
    await rm(dataDir, { recursive: true, force: true })
    await rm(sim.ctx.recordingsDir, { recursive: true, force: true })
  })

  return {
    sim,
    config,
    clients,
    service,
    app,
    events,
    announced,
    async call (script) {
      return sim.ctx.engine.startCall(script).callid
    },
    async recording (legacyId, ms = 20_000) {
      return await waitFor(`the recording event of ${legacyId}`, ms, () =>
        announced.find((a) => (a.event.payload as RecordingPayload).id === legacyId)?.event.payload as RecordingPayload | undefined)
    },
    async ended (callid, user, ms = 20_000) {
      return await waitFor(`the call-ended event of ${user} in call ${callid}`, ms, () =>
        events.find((e) => e.type === 'ended' && e.payload.user === user && e.payload.id.includes(`_${callid}-`))?.payload as EndedPayload | undefined)
    }
  }
}
