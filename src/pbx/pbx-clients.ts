// Builds the PBX clients in one call for the composition root, the doctor and tests: one
// connection pool, one token manager, the XAPI client and the Call Control client sharing them.
import type { Pool } from 'undici'
import type { Config } from '../config.js'
import type { BackoffOptions } from './backoff.js'
import { CallControlClient } from './callcontrol-client.js'
import { PbxHttp, type PbxLogger, type PbxObserver } from './pbx-http.js'
import { DEFAULT_RETRY, PbxRequester, type RetryOptions } from './pbx-requester.js'
import { TokenManager } from './token-manager.js'
import { XapiClient } from './xapi-client.js'
import type { Clock } from '../clock.js'

export interface PbxClientsOptions {
  logger?: PbxLogger
  observe?: PbxObserver
  retry?: Partial<RetryOptions>
  /** WebSocket reconnect backoff. */
  reconnect?: BackoffOptions
  pingIntervalMs?: number
  connections?: number
  /** See CallControlClientOptions.catchUpAfterMs. */
  catchUpAfterMs?: number
  /** Timers and time stamps of the token manager, retries and the Call Control client (default the system clock). */
  clock?: Clock
}

export interface PbxClients {
  pool: Pool
  http: PbxHttp
  tokens: TokenManager
  requester: PbxRequester
  xapi: XapiClient
  callControl: CallControlClient
  /** Stops the WebSocket and closes the pool. */
  close: () => Promise<void>
}

export function createPbxClients (config: Pick<Config, 'pbx'>, opts: PbxClientsOptions = {}): PbxClients {
  const http = new PbxHttp({ baseUrl: config.pbx.url, timeoutMs: config.pbx.timeoutMs, observe: opts.observe, connections: opts.connections })
  const tokens = new TokenManager({ http, clientId: config.pbx.clientId, clientSecret: config.pbx.clientSecret, logger: opts.logger, clock: opts.clock })
  const requester = new PbxRequester(http, tokens, { ...DEFAULT_RETRY, ...opts.retry }, Math.random, opts.clock)
  const xapi = new XapiClient(requester)
  const callControl = new CallControlClient({ requester, logger: opts.logger, observe: opts.observe, reconnect: opts.reconnect, pingIntervalMs: opts.pingIntervalMs, catchUpAfterMs: opts.catchUpAfterMs, clock: opts.clock })
  return {
    pool: http.pool,
    http,
    tokens,
    requester,
    xapi,
    callControl,
    async close () {
      await callControl.stop()
      await http.close()
    }
  }
}
