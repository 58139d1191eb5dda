// The configured API keys, looked up without hashing: a presented key is compared in constant time
// (crypto.timingSafeEqual) with every configured key of the same length, and with no other. What a
// caller can learn from the timing is only whether some key has the length it tried; the keys are
// 16 or more random characters (config.ts), so that narrows nothing worth guessing. Before this table
// every request hashed the presented key with SHA-256 to compare equal-length digests (issue 16).
import { timingSafeEqual } from 'node:crypto'

interface Entry<T> {
  bytes: Buffer
  value: T
}

export class KeyTable<T> {
  /** Configured keys by their length in characters (the keys are ASCII: characters = bytes). */
  private readonly byLength = new Map<number, Array<Entry<T>>>()

  constructor (entries: Iterable<readonly [key: string, value: T]>) {
    for (const [key, value] of entries) {
      const bytes = Buffer.from(key, 'utf8')
      const sameLength = this.byLength.get(key.length) ?? []
      sameLength.push({ bytes, value })
      this.byLength.set(key.length, sameLength)
    }
  }

  /** The value of the configured key equal to `presented`, or null. Every key of that length is compared. */
  find (presented: string | undefined): T | null {
    if (presented === undefined) return null
    const candidates = this.byLength.get(presented.length)
    if (candidates === undefined) return null
    // utf8, not latin1: latin1 keeps only the low byte of each character, so a non-ASCII string could
    // encode to a key's bytes; utf8 gives it more bytes than characters, and the length check refuses it.
    const bytes = Buffer.from(presented, 'utf8')
    let found: T | null = null
    for (const c of candidates) {
      if (c.bytes.length === bytes.length && timingSafeEqual(c.bytes, bytes)) found = c.value
    }
    return found
  }
}
