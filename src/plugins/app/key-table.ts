// The configured API keys, looked up without hashing: a presented key is compared in constant time
// with every configured key of the same length, and with no other. What a caller can learn from the
// timing is only whether some key has the length it tried; the keys are 16 or more random characters
// (config.ts), so that narrows nothing worth guessing. Before this table every request hashed the
// presented key with SHA-256 to compare equal-length digests (issue 16).

interface Entry<T> {
  key: string
  value: T
}

/**
 * Whether two strings of the same length are equal, looking at every character whatever differs
 * (crypto.timingSafeEqual's rule, on UTF-16 code units): no early exit, no Buffer per request.
 * Code units, not bytes: a non-ASCII character differs from every ASCII one, so no encoding trick
 * (latin1 keeping only a character's low byte) can make a look-alike equal a key.
 */
export function sameString (a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

export class KeyTable<T> {
  /** Configured keys by their length in characters. */
  private readonly byLength = new Map<number, Array<Entry<T>>>()

  constructor (entries: Iterable<readonly [key: string, value: T]>) {
    for (const [key, value] of entries) {
      const sameLength = this.byLength.get(key.length) ?? []
      sameLength.push({ key, value })
      this.byLength.set(key.length, sameLength)
    }
  }

  /** The value of the configured key equal to `presented`, or null. Every key of that length is compared. */
  find (presented: string | undefined): T | null {
    if (presented === undefined) return null
    const candidates = this.byLength.get(presented.length)
    if (candidates === undefined) return null
    let found: T | null = null
    for (const c of candidates) {
      if (sameString(c.key, presented)) found = c.value
    }
    return found
  }
}
