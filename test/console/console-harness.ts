// The whole gateway in demo mode (in-process simulator, real HTTP) with a read and a control key
// and one webhook target at a local receiver, for the console's route and browser tests.
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { startReceiver, type Receiver, type Reply } from '../webhooks/receiver.js'
import { SECRET_A } from '../webhooks/helpers.js'

export const READ_KEY = 'console-read-5f1c9a7e2b4d8f03'
export const CONTROL_KEY = 'console-ctl-9d2e7b1a6c3f5e48'

export interface ConsoleGateway {
  gw: RunningGateway
  app: FastifyInstance
  receiver: Receiver
  /** What the gateway logged so far. */
  logs: () => string
  /** Status the receiver answers with (default 200). */
  reply: Reply
}

export async function startConsoleGateway (t: { teardown: (fn: () => unknown) => void, testdir: () => string }, env: Record<string, string> = {}): Promise<ConsoleGateway> {
  const reply: Reply = { status: 200 }
  const receiver = await startReceiver(0, () => reply)
  t.teardown(() => receiver.close())
  const chunks: string[] = []
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: t.testdir(),
    DEMO_TRAFFIC: '0',
    LOG_LEVEL: 'debug',
    GATEWAY_KEYS: `${READ_KEY}:read,${CONTROL_KEY}:control`,
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: SECRET_A,
    WEBHOOK_RETRY_SCHEDULE: '50ms,100ms',
    CALL_END_GRACE_MS: '200',
    RECORDINGS_SOURCE: 'off',
    ...env
  })
  const gw = await startGateway(config, {
    logStream: new Writable({ write (c, _e, cb) { chunks.push(String(c)); cb() } }),
    pbx: { reconnect: { baseMs: 50, maxMs: 200 } }
  })
  t.teardown(async () => { await gw.close() })
  await gw.services.pbx.callControl.ready()
  return { gw, app: gw.app, receiver, logs: () => chunks.join(''), reply }
}

export interface ConsoleLogin { cookie: string, csrf: string, setCookie: string, body: string }

/** Logs in with `key` through the API; the cookie to send and the CSRF token. */
export async function login (app: FastifyInstance, key: string): Promise<ConsoleLogin> {
  const res = await app.inject({ method: 'POST', url: '/console/api/login', payload: { key } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const setCookie = String(res.headers['set-cookie'])
  return { cookie: setCookie.split(';')[0], csrf: (res.json() as { csrfToken: string }).csrfToken, setCookie, body: res.body }
}

/** Places a call in the simulator: inbound through the queue, answered by 101 (`script` changes it: a transfer …); its callid. */
export async function placeCall (gw: RunningGateway, talkMs: number, script: Record<string, unknown> = {}): Promise<number> {
  const res = await fetch(`${gw.simulator?.url ?? ''}/_sim/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15557654321', to: '+15550101', answer: '101', ringMs: 300, talkMs, hangup: 'caller', ...script })
  })
  if (res.status !== 201) throw new Error(`the simulator refused the call: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { callid: number }).callid
}
