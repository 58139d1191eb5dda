import t from 'tap'
import { KeyRing, KeyTable, keyDigest, stableKeyId } from '../../src/plugins/app/key-table.js'

const A = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' // 32
const B = 'Zy9-Xw8_Vu7.Ts6~' // 16
const C = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d7' // 32, differs from A in the last character

t.test('finds each configured key, and only an exact match', async (t) => {
  const table = new KeyTable([[A, 'key#1'], [B, 'key#2'], [C, 'key#3']])
  t.equal(table.find(A), 'key#1')
  t.equal(table.find(B), 'key#2')
  t.equal(table.find(C), 'key#3', 'two keys of one length: each finds its own')
  t.equal(table.find(undefined), null, 'no key presented')
  t.equal(table.find(''), null, 'empty')
  t.equal(table.find(A.slice(0, -1)), null, 'a prefix')
  t.equal(table.find(A + 'x'), null, 'a key with more after it')
  t.equal(table.find(A.toUpperCase()), null, 'case matters')
  t.equal(table.find(A.slice(0, -1) + 'e'), null, 'same length, one character off')
})

t.test('a non-ASCII string of a key\'s length that latin1 would turn into its bytes is refused', async (t) => {
  // U+0161 has 0x61 ("a") as its low byte: Buffer.from(s, 'latin1') would equal the key's bytes.
  const lookalike = '\u0161' + A.slice(1)
  t.equal(lookalike.length, A.length)
  t.same(Buffer.from(lookalike, 'latin1'), Buffer.from(A), 'the trap this guards against')
  const table = new KeyTable([[A, 1]])
  t.equal(table.find(lookalike), null)
})

t.test('an empty table finds nothing', async (t) => {
  t.equal(new KeyTable<string>([]).find(A), null)
})

t.test('a key known only by its SHA-256 is hashed until it matches once, then compared without hashing', async (t) => {
  let hashed = 0
  const digest = (k: string): string => { hashed++; return keyDigest(k) }
  const ring = new KeyRing([[{ key: A }, 'plain'], [{ key: '', sha256: keyDigest(B) }, 'digest']], digest)
  t.equal(ring.find(A), 'plain')
  t.equal(hashed, 0, 'a plain key needs no hash')
  t.equal(ring.find(B), 'digest')
  t.equal(ring.find(B), 'digest')
  t.equal(ring.find(B), 'digest')
  t.equal(hashed, 1, 'hashed once for three requests')
  t.equal(ring.find(C), null)
  t.equal(ring.find(C), null)
  t.equal(hashed, 3, 'a wrong key is not learned')
  t.equal(ring.find(B.slice(0, -1) + 'x'), null, 'a near miss of a learned key')
  t.equal(ring.find(''), null)
  t.equal(ring.find(undefined), null)
})

t.test('stableKeyId: one id per key, whichever form it is given in; not the key, not its digest', async (t) => {
  const key = 'k'.repeat(16) + '-stable-id'
  const id = stableKeyId({ key })
  t.equal(stableKeyId({ key: '', sha256: keyDigest(key) }), id, 'the key given only by its SHA-256 has the same id')
  t.equal(stableKeyId({ key: '', sha256: keyDigest(key).toUpperCase() }), id, 'whatever the digest\'s case')
  t.not(stableKeyId({ key: key + 'x' }), id, 'another key, another id')
  t.notOk(id.includes(key) || keyDigest(key).includes(id), 'neither the key nor a part of the digest the tenants table stores')
  t.match(id, /^[0-9a-f]{24}$/)
})
