// Requests Node's HTTP parser refuses before Fastify (or the tenants front) sees them: a byte outside
// ASCII in the URL, a control character in a header, headers over Node's 16 KB, a request not received
// within requestTimeout. They are answered in the gateway's error shape with a sentence saying what to
// fix (legacy-api.md §2), as every other refusal is, instead of Fastify's generic
// `{"error":"Bad Request","message":"Client Error"}` (or a bare 400 from Node on the tenants front).
// Nothing of the request is echoed: it may hold a key.
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { errorBody, type LegacyErrorCode } from './legacy/legacy-error.js'

const PARSER_ERRORS: Record<string, readonly [number, LegacyErrorCode, string]> = {
  HPE_INVALID_URL: [400, 'BAD_REQUEST', 'The URL holds a character that must be percent-encoded: send every character but ASCII letters, digits and - . _ ~ / ? & = as its UTF-8 bytes (é as %C3%A9, a space as %20)'],
  HPE_INVALID_HEADER_TOKEN: [400, 'BAD_REQUEST', 'A header name or value holds a character HTTP does not allow there (a control character or a byte outside ASCII); send headers in plain ASCII'],
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'The URL and headers together are larger than 16 KB; shorten the URL (fewer or shorter parameters) or the headers'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request was not received completely in time; send it again']
}
const NOT_HTTP = [400, 'BAD_REQUEST', 'The request is not valid HTTP/1.1: check its request line (GET /path HTTP/1.1) and its headers'] as const

interface TraceLog { trace: (o: object, msg: string) => void }

/**
 * The HTTP server's `clientError`: answers what the parser refused, then closes the connection.
 * Bound to something with a `log` (Fastify binds its instance), it logs the refusal at trace level.
 */
export function answerClientError (this: unknown, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] = PARSER_ERRORS[err.code ?? ''] ?? NOT_HTTP
  // The parser's code only: the error's rawPacket holds the request's bytes, a key among them.
  const log = (this as { log?: TraceLog } | undefined)?.log
  log?.trace({ parserCode: err.code, status }, `client error: ${code}`)
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message))
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
