// The configured API keys, looked up without hashing: a presented key is compared in constant time
// with every configured key of the same length, and with no other. What a caller can learn from the
// timing is only whether some key has the length it tried; the keys are 16 or more random characters
// (config.ts), so that narrows nothing worth guessing. Before this table every request hashed the
// presented key with SHA-256 to compare equal-length digests (issue 16). Keys known only by their
// SHA-256 (the tenants table stores no key) are in a KeyRing: hashed until one matches, then known.
import { hash } from 'node:crypto'

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
    for (const [key, value] of entries) this.add(key, value)
  }

  add (key: string, value: T): void {
    const sameLength = this.byLength.get(key.length) ?? []
    sameLength.push({ key, value })
    this.byLength.set(key.length, sameLength)
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

/** SHA-256 hex of a key: the form the tenants table stores keys in. */
export function keyDigest (key: string): string {
  return hash('sha256', key, 'hex')
}

/**
 * A stable, non-secret id of a key, the same whichever form (key or SHA-256) it is given in, in every
 * process and replica, and whatever its position in the list: what the per-key request windows are
 * counted under (before, a key's position, so reordering or removing keys moved one key's count onto
 * another). A hash of the key's digest with a purpose of its own, cut to 96 bits: it is not the digest
 * the tenants table stores, nor anything a key can be read back from; like the key it goes in no log
 * line or metric label (the windows' table and the makecall de-duplication only).
 */
export function stableKeyId (k: { key: string, sha256?: string }): string {
  const digest = k.sha256 !== undefined ? k.sha256.toLowerCase() : keyDigest(k.key)
  return hash('sha256', `3cx-gateway per-key id\0${digest}`, 'hex').slice(0, 24)
}

/**
 * Configured keys, given as the key or only as its SHA-256 (`sha256`), each with a value. A key
 * given as a digest is found by hashing the presented key, once: when the digest matches, the
 * presented key is the configured one, and it joins the plain keys, so later requests with it are
 * compared in constant time without hashing (issue 20). Only keys that matched are learned, so the
 * ring never holds more than its configured keys; a wrong key is hashed on every attempt (the auth
 * plugin throttles failed attempts per address).
 */
export class KeyRing<T> {
  private readonly plain: KeyTable<T>
  private readonly digests: KeyTable<T> | null

  constructor (keys: Iterable<readonly [key: { key: string, sha256?: string }, value: T]>, private readonly digest: (key: string) => string = keyDigest) {
    const list = [...keys]
    this.plain = new KeyTable(list.filter(([k]) => k.sha256 === undefined).map(([k, v]) => [k.key, v] as const))
    const hashed = list.filter(([k]) => k.sha256 !== undefined)
    this.digests = hashed.length === 0 ? null : new KeyTable(hashed.map(([k, v]) => [k.sha256 as string, v] as const))
  }

  find (presented: string | undefined): T | null {
    if (presented === undefined || presented === '') return null
    const known = this.plain.find(presented)
    if (known !== null || this.digests === null) return known
    const value = this.digests.find(this.digest(presented))
    if (value !== null) this.plain.add(presented, value)
    return value
  }
}
