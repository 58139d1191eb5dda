// The XAPI client (`/xapi/v1`, OData v4): paths come from odata.ts builders, the client adds the
// query string, the token, timeouts, retries for reads and error sentences (via PbxRequester).
import type { Readable } from 'node:stream'
import { queryString } from './odata.js'
import { PbxError, type XapiApi, type XapiCollection, type XapiDownload, type XapiRequestOptions } from './pbx-api.js'
import { xapiRouteTemplate } from './pbx-errors.js'
import type { PbxAnswer } from './pbx-http.js'
import { parseJson, type PbxRequester } from './pbx-requester.js'

const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json; charset=utf-8' }

export class XapiClient implements XapiApi {
  constructor (private readonly requester: PbxRequester) {}

  async get<T = unknown> (path: string, opts: XapiRequestOptions = {}): Promise<T> {
    const { answer, route } = await this.send('GET', path, opts)
    return parseJson<T>(answer, `GET XAPI ${route}`)
  }

  async list<T = unknown> (path: string, opts: XapiRequestOptions = {}): Promise<XapiCollection<T>> {
    const { answer, route } = await this.send('GET', path, opts)
    const body = parseJson<{ value?: unknown, '@odata.count'?: unknown } | undefined>(answer, `GET XAPI ${route}`)
    if (body === undefined || !Array.isArray(body.value)) {
      throw new PbxError('PBX_ERROR', `GET XAPI ${route}: the PBX answered without a "value" list`, 502, answer.status)
    }
    const count = body['@odata.count']
    return { value: body.value as T[], count: typeof count === 'number' ? count : null }
  }

  async patch (path: string, body: unknown, opts: XapiRequestOptions = {}): Promise<void> {
    await this.send('PATCH', path, opts, body)
  }

  async post<T = unknown> (path: string, body: unknown, opts: XapiRequestOptions = {}): Promise<T> {
    const { answer, route } = await this.send('POST', path, opts, body)
    return parseJson<T>(answer, `POST XAPI ${route}`)
  }

  /** `Pbx.DownloadRecording` answers audio whatever the spec says: the body is streamed, not parsed. */
  async download (path: string, opts: XapiRequestOptions = {}): Promise<XapiDownload> {
    const { answer } = await this.send('GET', path, opts, undefined, true)
    const header = (k: string): string | undefined => {
      const v = answer.headers[k]
      return Array.isArray(v) ? v[0] : v
    }
    const length = Number(header('content-length'))
    return {
      body: answer.stream as Readable,
      contentType: header('content-type') ?? 'application/octet-stream',
      contentLength: Number.isInteger(length) && length >= 0 && header('content-length') !== undefined ? length : null,
      fileName: dispositionFileName(header('content-disposition'))
    }
  }

  private async send (method: 'GET' | 'POST' | 'PATCH', path: string, opts: XapiRequestOptions, body?: unknown, stream = false): Promise<{ answer: PbxAnswer, route: string }> {
    const relative = path.replace(/^\/+/, '')
    const qs = queryString(opts.query)
    const full = `/xapi/v1/${relative}${qs !== '' && relative.includes('?') ? `&${qs.slice(1)}` : qs}`
    const route = xapiRouteTemplate(relative)
    const answer = await this.requester.send({
      api: 'xapi',
      method,
      path: full,
      route,
      headers: body === undefined ? { accept: 'application/json' } : JSON_HEADERS,
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      read: stream ? 'stream' : 'text',
      idempotent: method === 'GET'
    })
    return { answer, route }
  }
}

/** `attachment; filename="x.wav"` or `filename*=UTF-8''x.wav` → `x.wav`; only the base name. */
export function dispositionFileName (header: string | undefined): string | null {
  if (header === undefined) return null
  const star = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(header)
  let name: string | null = null
  if (star !== null) {
    try { name = decodeURIComponent(star[1].trim()) } catch { name = null }
  }
  if (name === null) {
    const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/i.exec(header)
    name = plain === null ? null : (plain[1] ?? plain[2]).trim()
  }
  if (name === null) return null
  const base = name.split(/[\\/]/).pop() ?? ''
  return base === '' ? null : base
}
