// `3cx-gateway doctor`: checks the configured PBX step by step and says, for every failed step, what
// to change in the 3CX admin console. Checks that depend on a failed one are reported as skipped.
// Exit code 0 only when every check passes. Never prints a secret.
import { lookup } from 'node:dns/promises'
import net from 'node:net'
import tls from 'node:tls'
import WebSocket from 'ws'
import type { Config } from './config.js'
import { PbxError } from './pbx/pbx-api.js'
import { callControlWsUrl } from './pbx/callcontrol-client.js'
import { createPbxClients, type PbxClients } from './pbx/pbx-clients.js'

const API = 'Admin > Integrations > API'

type CheckId = 'dns' | 'tcp' | 'tls' | 'http' | 'token' | 'xapi' | 'owner' | 'callcontrol' | 'websocket' | 'monitored'

/** A check's verdict: `pass` (✓), `warn` (! — does not fail the run), `na` (– not applicable). */
interface Verdict { state: 'pass' | 'warn' | 'na', detail: string }

/** A failed check: what is wrong and what to change. */
class CheckFailed extends Error {
  constructor (message: string, readonly fix = '') { super(message) }
}

const pass = (detail: string): Verdict => ({ state: 'pass', detail })

export interface DoctorOptions {
  /** How long the WebSocket may take to open (default 5 s). */
  webSocketTimeoutMs?: number
}

export async function runDoctor (config: Config, print: (line: string) => void, opts: DoctorOptions = {}): Promise<number> {
  const url = new URL(config.pbx.url)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port !== '' ? url.port : url.protocol === 'https:' ? 443 : 80)
  const limitMs = Math.min(config.pbx.timeoutMs, 5000)
  print(`3cx-gateway doctor: ${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')} with API client ${config.pbx.clientId}`)

  const clients = createPbxClients(config, { retry: { retries: 0 } })
  const results = new Map<CheckId, 'ok' | 'failed' | 'skipped'>()
  const labels: Record<CheckId, string> = {
    dns: 'DNS', tcp: 'TCP', tls: 'TLS', http: 'HTTP', token: 'Token', xapi: 'XAPI', owner: 'System Owner', callcontrol: 'Call Control', websocket: 'WebSocket', monitored: 'Monitored DNs'
  }

  const check = async (id: CheckId, needs: CheckId[], run: () => Promise<Verdict>): Promise<void> => {
    const blocker = needs.find((n) => results.get(n) !== 'ok')
    if (blocker !== undefined) {
      results.set(id, 'skipped')
      print(`- ${labels[id]}: skipped (${labels[blocker]} did not pass)`)
      return
    }
    try {
      const v = await run()
      results.set(id, 'ok')
      print(`${v.state === 'pass' ? '✓' : v.state === 'warn' ? '!' : '–'} ${labels[id]}: ${v.detail}`)
    } catch (err) {
      results.set(id, 'failed')
      const fix = err instanceof CheckFailed ? err.fix : ''
      print(`✗ ${labels[id]}: ${err instanceof Error ? err.message : String(err)}${fix !== '' ? ` — ${fix}` : ''}`)
    }
  }

  try {
    await check('dns', [], async () => {
      if (net.isIP(host) !== 0) return pass(`${host} is an IP address`)
      try {
        const a = await lookup(host)
        return pass(`${host} resolves to ${a.address}`)
      } catch (err) {
        throw new CheckFailed(`${host} does not resolve (${(err as { code?: string }).code ?? 'error'})`, 'check the host name in PBX_URL (the FQDN of the 3CX, e.g. pbx.example.com)')
      }
    })
    await check('tcp', ['dns'], async () => {
      await tcpConnect(host, port, limitMs)
      return pass(`port ${port} accepts connections`)
    })
    await check('tls', ['tcp'], async () => {
      if (url.protocol !== 'https:') return { state: 'na', detail: 'not used (PBX_URL is http://); a real 3CX is reached over https' }
      return pass(await tlsCheck(host, port, limitMs))
    })
    await check('http', ['tls'], async () => {
      const res = await clients.pool.request({ path: `${clients.http.basePath}/`, method: 'GET', headersTimeout: limitMs, bodyTimeout: limitMs })
      await res.body.dump()
      return pass(`answers HTTP (${res.statusCode} for /)`)
    })
    await check('token', ['http'], async () => {
      await pbxStep(async () => await clients.tokens.getToken())
      const minutes = Math.round(((clients.tokens.expiry ?? Date.now()) - Date.now()) / 60_000)
      return pass(`client ${config.pbx.clientId} got an access token (valid for about ${minutes} min)`)
    })
    await check('xapi', ['token'], async () => {
      const status = await pbxStep(async () => await clients.xapi.get<{ Version?: string, FQDN?: string }>('SystemStatus'),
        `tick "XAPI Access Enabled" for the API client in ${API} (XAPI needs an Enterprise licence)`)
      return pass(`SystemStatus read: 3CX ${status?.Version ?? 'version unknown'}${status?.FQDN !== undefined ? ` (${status.FQDN})` : ''}`)
    })
    await check('owner', ['xapi'], async () => {
      await pbxStep(async () => await clients.xapi.list('CallHistoryView', { query: { top: 1 } }),
        `give the API client the System Owner role in ${API}; call history, recordings and reports need it`)
      return pass('call history is readable (the client has the System Owner role)')
    })
    let dns: Array<{ dn: string, type: string }> = []
    await check('callcontrol', ['token'], async () => {
      dns = await pbxStep(async () => await clients.callControl.snapshot(),
        `tick "3CX Call Control API Access" for the API client in ${API} (Call Control needs an Enterprise licence and V20 Update 4 or later)`)
      return pass(`GET /callcontrol lists ${dns.length} DN${dns.length === 1 ? '' : 's'}`)
    })
    await check('websocket', ['callcontrol'], async () => {
      await webSocketOpens(clients, opts.webSocketTimeoutMs ?? 5000)
      return pass('/callcontrol/ws opens')
    })
    await check('monitored', ['callcontrol', 'xapi'], async () => monitoredVerdict(clients, dns))
  } finally {
    await clients.close()
  }

  const failed = [...results.values()].filter((r) => r !== 'ok').length
  print(failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} did not pass.`)
  return failed === 0 ? 0 : 1
}

/** Runs a PBX call; a PbxError becomes a failed check, with `fix` when its message has no advice of its own. */
async function pbxStep<T> (fn: () => Promise<T>, fix = ''): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (!(err instanceof PbxError)) throw err
    const advised = /Admin >|PBX_CLIENT|PBX_URL|System Owner|Access/.test(err.message)
    const extra = err.code === 'PBX_UNREACHABLE' ? 'check the firewall and the Console Restrictions IP allow-list (Admin > Advanced > Console Restrictions)' : ''
    throw new CheckFailed(err.message, advised ? extra : (fix !== '' ? fix : extra))
  }
}

async function tcpConnect (host: string, port: number, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port })
    const fail = (why: string): void => {
      socket.destroy()
      reject(new CheckFailed(`cannot connect to ${host}:${port} (${why})`, 'check the port in PBX_URL (443 on hosted PBXs, usually 5001 self-hosted), the firewall and the Console Restrictions IP allow-list (Admin > Advanced > Console Restrictions)'))
    }
    socket.setTimeout(timeoutMs, () => { fail(`no answer within ${timeoutMs} ms`) })
    socket.once('error', (err: NodeJS.ErrnoException) => { fail(err.code ?? err.message) })
    socket.once('connect', () => { socket.end(); resolve() })
  })
}

async function tlsCheck (host: string, port: number, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined })
    const fail = (why: string): void => {
      socket.destroy()
      reject(new CheckFailed(`the certificate was not accepted (${why})`, 'use the PBX\'s FQDN in PBX_URL and give the 3CX a certificate that is valid for it (3CX manages one for *.3cx.* FQDNs); a private CA can be trusted with NODE_EXTRA_CA_CERTS'))
    }
    socket.setTimeout(timeoutMs, () => { fail(`no TLS handshake within ${timeoutMs} ms`) })
    socket.once('error', (err: NodeJS.ErrnoException) => { fail(err.code ?? err.message) })
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate()
      socket.end()
      resolve(`certificate accepted${cert?.valid_to !== undefined ? ` (valid until ${cert.valid_to})` : ''}`)
    })
  })
}

async function webSocketOpens (clients: PbxClients, timeoutMs: number): Promise<void> {
  const token = await clients.tokens.getToken()
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(callControlWsUrl(clients.http), { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: timeoutMs })
    const fail = (why: string, fix: string): void => { ws.terminate(); reject(new CheckFailed(why, fix)) }
    const proxyFix = 'a reverse proxy or firewall in front of the 3CX must pass WebSocket upgrades on /callcontrol/ws'
    ws.on('unexpected-response', (_req, res) => {
      res.resume()
      fail(`the upgrade was refused (${String(res.statusCode)})`, res.statusCode === 403 ? `tick "3CX Call Control API Access" in ${API}` : proxyFix)
    })
    ws.on('error', (err) => { fail(`did not open: ${err.message}`, proxyFix) })
    ws.once('open', () => { ws.terminate(); resolve() })
  })
}

/** Compares the DNs Call Control sees with XAPI's extensions; unmonitored ones produce no call events. */
async function monitoredVerdict (clients: PbxClients, dns: Array<{ dn: string }>): Promise<Verdict> {
  const users = await pbxStep(async () => await clients.xapi.list<{ Number?: string }>('Users', { query: { select: ['Number'] } }))
  const seen = new Set(dns.map((d) => d.dn))
  const numbers = users.value.map((u) => u.Number).filter((n): n is string => typeof n === 'string' && n !== '')
  const missing = numbers.filter((n) => !seen.has(n))
  const fix = `add them one by one under "extensions to monitor" for the API client in ${API}`
  if (numbers.length > 0 && missing.length === numbers.length) {
    throw new CheckFailed(`none of the ${numbers.length} extensions is monitored, so no call events will come`, fix)
  }
  if (missing.length === 0) return pass(`all ${numbers.length} extensions are monitored`)
  const list = missing.length > 20 ? `${missing.slice(0, 20).join(', ')} … (+${missing.length - 20})` : missing.join(', ')
  return { state: 'warn', detail: `${missing.length} of ${numbers.length} extensions are not monitored (${list}): their calls produce no events — ${fix}` }
}
