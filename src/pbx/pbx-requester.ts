// One authorized PBX request with the gateway's policy: Bearer token, on a 401 one token refresh and
// one more try, retries with backoff for idempotent requests on network errors and 502/503/504
// (never for actions: a retried MakeCall dials twice), and PbxErrors that say what to fix.
import { PbxError } from './pbx-api.js'
import { backoffDelay } from './backoff.js'
import { sleep, systemClock, type Clock } from '../clock.js'
import { errorForStatus } from './pbx-errors.js'
import type { PbxAnswer, PbxHttp, PbxRequest } from './pbx-http.js'
import type { TokenManager } from './token-manager.js'

export interface RetryOptions {
  /** Retries after the first try (default 2). */
  retries: number
  baseMs: number
  maxMs: number
}

export const DEFAULT_RETRY: RetryOptions = { retries: 2, baseMs: 200, maxMs: 2_000 }

const RETRY_STATUS = new Set([502, 503, 504])

export interface AuthorizedRequest extends PbxRequest {
  /** GETs are; POST actions are not, and are never retried. */
  idempotent: boolean
}

export class PbxRequester {
  constructor (
    readonly http: PbxHttp,
    readonly tokens: TokenManager,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
    private readonly random: () => number = Math.random,
    private readonly clock: Clock = systemClock
  ) {}

  /** Resolves with a 2xx answer; anything else becomes a PbxError. */
  async send (req: AuthorizedRequest): Promise<PbxAnswer> {
    let refreshed = false
    let attempt = 0
    const retryAfterBackoff = async (): Promise<boolean> => {
      if (!req.idempotent || attempt >= this.retry.retries) return false
      await sleep(this.clock, backoffDelay(attempt++, this.retry, this.random), { signal: req.signal, keepAlive: true })
      return true
    }
    for (;;) {
      let token: string
      let answer: PbxAnswer
      try {
        token = await this.tokens.getToken()
        answer = await this.http.request({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } })
      } catch (err) {
        if (err instanceof PbxError && err.code === 'PBX_UNREACHABLE' && await retryAfterBackoff()) continue
        throw err
      }
      if (answer.status >= 200 && answer.status < 300) return answer
      if (answer.status === 401 && !refreshed) {
        refreshed = true
        this.tokens.invalidate(token)
        continue
      }
      if (RETRY_STATUS.has(answer.status) && await retryAfterBackoff()) continue
      throw errorForStatus({ api: req.api, method: req.method, route: req.route, path: req.path, status: answer.status, body: answer.text })
    }
  }
}

/** Parses a JSON answer body; a PBX that answers something else gets a clear PbxError. */
export function parseJson<T> (answer: PbxAnswer, what: string): T {
  if (answer.text === '') return undefined as T
  try {
    return JSON.parse(answer.text) as T
  } catch {
    throw new PbxError('PBX_ERROR', `${what}: the PBX answered ${answer.status} with a body that is not JSON`, 502, answer.status)
  }
}
