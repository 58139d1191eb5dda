#!/usr/bin/env node
// The container's HEALTHCHECK: GET /readyz of the gateway in this container, over https when it
// serves TLS itself (TLS_CERT), else http. Exit 0 when ready, 1 otherwise. The certificate is not
// verified: it names the public host, and this only talks to its own process on loopback.
import http from 'node:http'
import https from 'node:https'
import dotenv from 'dotenv'

type Env = Record<string, string | undefined>

/** Where the gateway configured by `env` answers /readyz from inside its own container. */
export function readyzUrl (env: Env): string {
  const tls = (env.TLS_CERT ?? '').trim() !== ''
  const host = (env.HOST ?? '').trim()
  const local = host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const port = (env.PORT ?? '').trim() === '' ? '8080' : (env.PORT ?? '').trim()
  return `${tls ? 'https' : 'http'}://${local.includes(':') ? `[${local}]` : local}:${port}/readyz`
}

/** True when /readyz answers 2xx within `timeoutMs`. */
export async function isReady (url: string, timeoutMs = 4000): Promise<boolean> {
  const get = url.startsWith('https:') ? https.get : http.get
  return await new Promise((resolve) => {
    const req = get(url, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300)
    })
    req.on('timeout', () => { req.destroy() })
    req.on('error', () => { resolve(false) })
  })
}

const invokedDirectly = process.argv[1] !== undefined && /healthcheck\.(js|ts)$/.test(process.argv[1])
if (invokedDirectly) {
  dotenv.config({ quiet: true })
  isReady(readyzUrl(process.env)).then((ok) => { process.exitCode = ok ? 0 : 1 }, () => { process.exitCode = 1 })
}
