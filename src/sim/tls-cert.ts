// A self-signed TLS certificate made with node:crypto alone (no openssl CLI, no key in the repo):
// a minimal X.509 v3 certificate, DER-encoded by hand, for an ECDSA P-256 key, valid for the given
// host name plus localhost and 127.0.0.1 (subjectAltName) and usable as its own trust anchor
// (basicConstraints CA). What `sim --tls` serves; clients trust it by pinning it (`ca`) or by
// turning certificate checks off in development.
import { generateKeyPairSync, sign } from 'node:crypto'
import { isIPv4 } from 'node:net'

function der (tag: number, body: Buffer): Buffer {
  const n = body.length
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), len, body])
}
const seq = (...parts: Buffer[]): Buffer => der(0x30, Buffer.concat(parts))
const oid = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'))
const utcTime = (d: Date): Buffer => der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'))

const ECDSA_WITH_SHA256 = seq(oid('2a8648ce3d040302'))
const COMMON_NAME = '550403'
const SUBJECT_ALT_NAME = '551d11'
const BASIC_CONSTRAINTS = '551d13'

/** One GeneralName: dNSName [2] or iPAddress [7] (IPv4). */
function generalName (name: string): Buffer {
  return isIPv4(name) ? der(0x87, Buffer.from(name.split('.').map(Number))) : der(0x82, Buffer.from(name))
}

export interface TlsMaterial { cert: string, key: string }

export function selfSignedCertificate (commonName = 'localhost', days = 2): TlsMaterial {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const name = seq(der(0x31, seq(oid(COMMON_NAME), der(0x0c, Buffer.from(commonName)))))
  const altNames = [...new Set([commonName, 'localhost', '127.0.0.1'])].map(generalName)
  const extensions = der(0xa3, seq(
    seq(oid(BASIC_CONSTRAINTS), der(0x04, seq(der(0x01, Buffer.from([0xff]))))),
    seq(oid(SUBJECT_ALT_NAME), der(0x04, seq(...altNames)))
  ))
  const now = Date.now()
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, Buffer.from([1])), // serial number
    ECDSA_WITH_SHA256,
    name,
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + days * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions
  )
  const signature = sign('sha256', tbs, privateKey)
  const cert = seq(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const pem = (label: string, body: Buffer): string => `-----BEGIN ${label}-----\n${body.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`
  return { cert: pem('CERTIFICATE', cert), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
}
