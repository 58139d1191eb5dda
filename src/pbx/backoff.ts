// Exponential backoff with jitter for PBX retries and WebSocket reconnects. Jitter spreads the
// reconnects of many gateways (or many requests) after a PBX restart instead of hitting it at once.

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  baseMs: number
  /** Upper bound of any delay. */
  maxMs: number
}

/**
 * Delay before retry number `attempt` (0-based): `min(maxMs, baseMs · 2^attempt)`, then "equal jitter":
 * a uniformly random value in its upper half, so delays still grow but never line up.
 */
export function backoffDelay (attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30))
  return Math.round(exp / 2 + random() * (exp / 2))
}
