// The logger's setup: pino options shared by server.ts and the tests, so no log line prints a key
// (legacy-api.md §1), whichever plugin or error writes it.
import pino from 'pino'
import type { FastifyServerOptions } from 'fastify'
import { CREDENTIAL_HEADERS, REDACTED, redactUrl } from './plugins/app/request-key.js'

/**
 * Pino/Fastify logger options that never print a key: URLs pass redactUrl, credential headers are
 * censored wherever headers are logged, and errors lose Node's `rawPacket` (the raw bytes of a
 * request the HTTP parser rejected, key included; Fastify logs it at trace) and have URLs in their
 * message and stack redacted.
 */
export function loggerOptions (level: string, stream?: NodeJS.WritableStream): NonNullable<FastifyServerOptions['logger']> & object {
  return {
    level,
    ...(stream === undefined ? {} : { stream }),
    redact: {
      paths: CREDENTIAL_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
      censor: REDACTED
    },
    serializers: {
      req (req: { method: string, url: string, ip?: string, socket?: { remoteAddress?: string, remotePort?: number } }) {
        return {
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
          remotePort: req.socket?.remotePort
        }
      },
      err (err: Error) {
        const out = pino.stdSerializers.err(err) as ReturnType<typeof pino.stdSerializers.err> & { rawPacket?: unknown }
        if (typeof out !== 'object' || out === null) return out
        delete out.rawPacket
        if (typeof out.message === 'string') out.message = redactUrl(out.message)
        if (typeof out.stack === 'string') out.stack = redactUrl(out.stack)
        return out
      }
    }
  }
}
