// How a console request proves who it is: the `gw_console` session cookie (HttpOnly, SameSite=Strict,
// Path=/console, Secure over TLS) and, on every state-changing request, the session's CSRF token in
// the `x-csrf-token` header. A read key's session may look; acting needs a control key's session.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { KeyScope } from '../plugins/app/auth.js'
import { LegacyError } from '../legacy/legacy-error.js'
import { sameToken, type ConsoleSession, type SessionStore } from './session-store.js'

export const SESSION_COOKIE = 'gw_console'
export const CSRF_HEADER = 'x-csrf-token'
export const COOKIE_PATH = '/console'

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | null
  }
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Set-Cookie for a session id; `id` '' clears the cookie. Session ids are base64url (no escaping). */
export function sessionCookie (id: string, secure: boolean): string {
  const attrs = [`${SESSION_COOKIE}=${id}`, `Path=${COOKIE_PATH}`, 'HttpOnly', 'SameSite=Strict']
  if (id === '') attrs.push('Max-Age=0')
  if (secure) attrs.push('Secure')
  return attrs.join('; ')
}

const SAFE_METHODS = new Set(['GET', 'HEAD'])

/**
 * preHandler: the request needs a live session, a control-key session for `scope` 'control', and
 * the CSRF header on anything but GET/HEAD.
 */
export function sessionGuard (store: SessionStore, scopeOf: (req: FastifyRequest) => KeyScope) {
  return async function checkConsoleSession (req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const session = store.get(readCookie(req.headers.cookie, SESSION_COOKIE))
    // A session opened with a key that was rotated, removed or given another scope since ends with it;
    // one whose key stays goes on, under the key's label now (`key#N` moves when keys before it go).
    const key = session === null ? null : req.server.apiKeys.currentLabel(session.key)
    if (session === null || key === null) throw new LegacyError(401, 'UNAUTHORIZED', 'Not logged in to the console, or the session has ended: log in again at /console/')
    session.key = key
    if (!SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER]
      if (typeof sent !== 'string' || !sameToken(sent, session.csrfToken)) {
        throw new LegacyError(403, 'CSRF_REFUSED', `Missing or wrong ${CSRF_HEADER} header: send the csrfToken from GET /console/api/session with every POST`)
      }
    }
    if (scopeOf(req) === 'control' && session.key.scope !== 'control') {
      throw new LegacyError(403, 'FORBIDDEN_SCOPE', 'This session was opened with a read key; log in with a control key to do this')
    }
    req.consoleSession = session
  }
}
