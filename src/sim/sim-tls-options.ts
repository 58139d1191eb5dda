// The TLS flags of `3cx-gateway sim`: --tls serves https/wss with a certificate generated at start,
// --cert/--key (PEM files, implying --tls) serve a certificate of your own.
import { readFile } from 'node:fs/promises'
import { selfSignedCertificate, type TlsMaterial } from './tls-cert.js'

export const SIM_TLS_OPTIONS = {
  tls: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' }
} as const

export interface SimTlsFlags { tls?: boolean, cert?: string, key?: string }

/** The certificate to serve (undefined: plain http), or an error sentence for the command line. */
export async function simTlsFrom (flags: SimTlsFlags, host: string): Promise<{ tls?: TlsMaterial, error?: string }> {
  if ((flags.cert === undefined) !== (flags.key === undefined)) return { error: '--cert and --key go together (PEM files of the certificate and its private key)' }
  if (flags.cert !== undefined && flags.key !== undefined) {
    try {
      return { tls: { cert: await readFile(flags.cert, 'utf8'), key: await readFile(flags.key, 'utf8') } }
    } catch (err) {
      return { error: `cannot read the certificate or key: ${(err as Error).message}` }
    }
  }
  if (flags.tls !== true) return {}
  return { tls: selfSignedCertificate(host === '0.0.0.0' || host === '::' ? 'localhost' : host, 365) }
}
