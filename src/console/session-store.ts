// Console sessions: a login with a gateway key becomes a random session id (the `gw_console`
// cookie) and a CSRF token, kept in memory only. The key itself is never stored: a session knows
// the key's label (`key#1`) and scope. Sessions end on logout, after being idle for `idleMs`, and
// the oldest go first when `max` are open (a login flood cannot grow memory without bound).
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AuthenticatedKey } from '../plugins/app/auth.js'

export interface ConsoleSession {
  id: string
  csrfToken: string
  key: AuthenticatedKey
  lastSeenAt: number
}

export interface SessionStoreOptions {
  idleMs?: number
  max?: number
  now?: () => number
}

function token (): string {
  return randomBytes(32).toString('base64url')
}

/** Constant-time equality of two tokens (a CSRF token must not be guessable by timing). */
export function sameToken (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export class SessionStore {
  readonly idleMs: number
  private readonly max: number
  private readonly now: () => number
  /** Insertion order is last-use order: get() moves a session to the end. */
  private readonly sessions = new Map<string, ConsoleSession>()

  constructor (opts: SessionStoreOptions = {}) {
    this.idleMs = opts.idleMs ?? 8 * 3_600_000
    this.max = opts.max ?? 1000
    this.now = opts.now ?? Date.now
  }

  get size (): number {
    return this.sessions.size
  }

  create (key: AuthenticatedKey): ConsoleSession {
    const session = { id: token(), csrfToken: token(), key, lastSeenAt: this.now() }
    this.sessions.set(session.id, session)
    for (const oldest of this.sessions.keys()) {
      if (this.sessions.size <= this.max) break
      this.sessions.delete(oldest)
    }
    return session
  }

  /** The live session with this id (its idle time restarts), or null. */
  get (id: string | undefined): ConsoleSession | null {
    if (id === undefined) return null
    const s = this.sessions.get(id)
    if (s === undefined) return null
    this.sessions.delete(id)
    const now = this.now()
    if (now - s.lastSeenAt > this.idleMs) return null
    s.lastSeenAt = now
    this.sessions.set(id, s)
    return s
  }

  delete (id: string): void {
    this.sessions.delete(id)
  }
}
