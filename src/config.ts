// Environment → one validated, typed configuration object. Every problem is collected and reported
// at once, one line per variable, so an admin fixes the whole .env in one go (no stack traces).
import { isIP } from 'node:net'
import path from 'node:path'
import { LOG_FORMATS, type LogFormatSetting } from './log-format.js'
import { parseDatabaseUrl, redactDatabaseUrl } from './database-url.js'
import { isHttpUrl, parseDuration, Reader, safeUrlText, type Env } from './env-reader.js'
import { DEFAULT_REPLICA_LEASE_MS } from './replicas/replica-timing.js'

export type KeyScope = 'read' | 'control'
/** `sha256`: the key is known only by its SHA-256 hex (the tenants table); `key` is then empty. */
export interface GatewayKey { key: string, scope: KeyScope, sha256?: string }

export type WebhookFormat = 'json' | 'form' | 'get'
export type WebhookEventNames = 'legacy' | 'pickup'
export type WebhookEventType = 'ringing' | 'started' | 'ended' | 'recording'

export interface WebhookTargetConfig {
  /** Stable name used in logs, metrics and the delivery log (never the URL's credentials). */
  name: string
  url: string
  format: WebhookFormat
  eventNames: WebhookEventNames
  /** Standard Webhooks secrets (`whsec_…`); several during a rotation, the first signs first. */
  secrets: string[]
  /** Event types this target receives; empty = all. */
  events: WebhookEventType[]
  /** Only calls involving these extensions / queues (the event's `user`); empty = all. */
  extensions: string[]
  /** Only calls that came in on these DID rule names; empty = all. */
  didRules: string[]
}

export interface Config {
  /** Demo mode: no PBX_URL, the built-in simulator runs in-process. */
  demo: boolean
  pbx: {
    /** Base URL without trailing slash; in demo mode filled in once the simulator listens. */
    url: string
    clientId: string
    clientSecret: string
    timeoutMs: number
    timezone: string
  }
  keys: GatewayKey[]
  host: string
  port: number
  publicUrl: string
  /** Fastify's trustProxy: false, or the proxies (addresses, CIDR ranges, proxy-addr names) to believe. */
  trustProxy: false | string[]
  corsOrigins: string[]
  tls: { cert: string, key: string } | null
  rateLimitPerMinute: number
  /** Identical makecalls (same key and parameters) within this many ms get the first one's answer; 0 = off. */
  makecallDedupMs: number
  webhooks: {
    targets: WebhookTargetConfig[]
    timeoutMs: number
    /** Delay before each retry, in ms; after the last entry it repeats the last delay. */
    retrySchedule: number[]
    maxAgeMs: number
    concurrency: number
    internalCalls: boolean
    recordingFullInfo: boolean
    callEndGraceMs: number
  }
  recordings: {
    source: 'xapi' | 'dir' | 'off'
    dir: string
    mp3Dir: string
    retentionDays: number
    retentionCron: string
    bitrateKbps: number
    ffmpegPath: string
    concurrency: number
    /** How long after a leg ends its files are looked for before it counts as not recorded, ms (docs/recordings.md). */
    giveUpMs: number
    /** RECORDINGS_SETTLE_MS: after a recorded leg ends, how long to wait at least for more of its files. */
    settleMs: number
  }
  /** maxSpanDays: the longest `from`–`to` one request may ask (bounds the PBX requests it costs). */
  reports: { maxRangeDays: number, pageSize: number, maxSpanDays: number }
  dataDir: string
  /** Demo mode: the built-in simulator's port; 0 = any free port. */
  simPort: number
  /** DATABASE_URL: PostgreSQL holds the state instead of DATA_DIR/gateway.db (null: SQLite, the default). */
  databaseUrl: string | null
  /** DATABASE_POOL_MAX: connections each PostgreSQL pool (one per tenant per replica) may open. */
  databasePoolMax: number
  /** REPLICA_LEASE_MS: how long a replica's stream lease lasts unrenewed; the replicas' other timings follow (replicas/replica-timing.ts). */
  replicaLeaseMs: number
  demoTrafficPerMinute: number
  /** SHUTDOWN_TIMEOUT_MS: on SIGTERM/SIGINT the process exits within this long, naming what still ran if it had to cut short (shutdown.ts). */
  shutdownTimeoutMs: number
  logLevel: string
  /** json, pretty, or auto (pretty on a terminal); see log-format.ts. */
  logFormat: LogFormatSetting
  configIni: string
  /** TENANTS_FILE: the tenants (one PBX each) this gateway serves; null: the one PBX of the variables above. */
  tenantsFile: string | null
  /** Set on a tenant's own configuration (tenants/tenant-config.ts): its id, for storage, metrics and links. */
  tenantId?: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor (readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}


/** The default retry schedule of webhooks.md §4: immediately, 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly. */
export { parseDuration }

/** RECORDINGS_GIVE_UP_MS: a leg whose files have not shown this long after it ended counts as not recorded. */
export const DEFAULT_RECORDINGS_GIVE_UP_MS = 15_000

export const DEFAULT_RETRY_SCHEDULE_MS = [0, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000]

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface LoadOptions {
  /**
   * The HTTP server will run (`serve`, `config check`; the default): GATEWAY_KEYS is required, and
   * demo mode gets the well-known key `demo`. Other commands (doctor, export, recordings convert)
   * answer no HTTP requests: they neither ask for keys nor get the demo key.
   */
  serving?: boolean
}

/**
 * Reads and validates the configuration. Throws ConfigError listing every problem.
 * Pure: it only reads `env` (the caller loads `.env` first if it wants to).
 */
export function loadConfig (env: Env = process.env, opts: LoadOptions = {}): Config {
  const problems: string[] = []
  const r = new Reader(env, problems)

  // With TENANTS_FILE each tenant names its PBX and keys there; the PBX_* variables are not needed.
  const tenantsFile = (env.TENANTS_FILE ?? '').trim() === '' ? null : path.resolve((env.TENANTS_FILE ?? '').trim())
  const tenants = tenantsFile !== null
  // Demo mode only when PBX_URL is really unset: a malformed URL is an error, not a demo.
  const demo = !tenants && (env.PBX_URL ?? '').trim() === ''
  const pbxUrl = r.url('PBX_URL', { optional: true })
  const clientId = r.str('PBX_CLIENT_ID', demo ? '599' : tenants ? '' : undefined)
  const clientSecret = r.str('PBX_CLIENT_SECRET', demo ? 'sim-secret' : tenants ? '' : undefined)
  if (!demo && clientId !== '' && !/^\d{1,10}$/.test(clientId)) {
    problems.push('PBX_CLIENT_ID: expected the numeric client id of the 3CX API client (Admin > Integrations > API), e.g. 599')
  }

  const keys = parseKeys(env.GATEWAY_KEYS, demo, (opts.serving ?? true) && !tenants, problems)
  const host = r.str('HOST', demo ? '127.0.0.1' : '0.0.0.0')
  const port = r.int('PORT', 8080, 0, 65535)
  const publicUrl = r.url('PUBLIC_URL', { optional: true }).replace(/\/+$/, '')

  const tlsCert = r.str('TLS_CERT', '')
  const tlsKey = r.str('TLS_KEY', '')
  if ((tlsCert === '') !== (tlsKey === '')) problems.push('TLS_CERT / TLS_KEY: set both (paths to a PEM certificate and its key) or neither')

  const format = r.oneOf('WEBHOOK_FORMAT', ['json', 'form', 'get'] as const, 'json')
  const eventNames = r.oneOf('WEBHOOK_EVENT_NAMES', ['legacy', 'pickup'] as const, 'legacy')
  const secrets = parseSecrets('WEBHOOK_SECRET', env.WEBHOOK_SECRET, problems)
  const targets: WebhookTargetConfig[] = []
  r.urlList('WEBHOOK_URLS').forEach((url, i) => targets.push({
    name: `webhook${i + 1}`, url, format, eventNames, secrets, events: [], extensions: [], didRules: []
  }))
  r.urlList('WEBHOOK_RECORDING_URLS').forEach((url, i) => targets.push({
    name: `recording${i + 1}`, url, format, eventNames, secrets, events: ['recording'], extensions: [], didRules: []
  }))
  if (env.WEBHOOK_TARGETS !== undefined && env.WEBHOOK_TARGETS.trim() !== '') {
    targets.push(...parseTargets(env.WEBHOOK_TARGETS, { format, eventNames, secrets }, problems))
  }
  const names = new Set<string>()
  for (const t of targets) {
    if (names.has(t.name)) problems.push(`WEBHOOK_TARGETS: target name "${t.name}" is used twice; names must be unique`)
    names.add(t.name)
  }

  const retrySchedule = r.durationList('WEBHOOK_RETRY_SCHEDULE', DEFAULT_RETRY_SCHEDULE_MS)
  const dataDir = path.resolve(r.str('DATA_DIR', './data'))
  let databaseUrl: string | null = null
  if ((env.DATABASE_URL ?? '').trim() !== '') {
    const parsed = parseDatabaseUrl((env.DATABASE_URL ?? '').trim())
    if (parsed.ok) databaseUrl = parsed.url
    else problems.push(parsed.problem)
  }
  const source = r.oneOf('RECORDINGS_SOURCE', ['xapi', 'dir', 'off'] as const, 'xapi')
  const recordingsDir = r.str('RECORDINGS_DIR', source === 'dir' ? '/var/lib/3cxpbx/Instance1/Data/Recordings' : '')

  const timezone = r.str('PBX_TIMEZONE', 'UTC')
  if (!validTimeZone(timezone)) problems.push(`PBX_TIMEZONE: "${timezone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`)

  const logLevel = r.str('LOG_LEVEL', 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)

  const config: Config = {
    demo,
    pbx: {
      url: pbxUrl.replace(/\/+$/, ''),
      clientId,
      clientSecret,
      timeoutMs: r.int('PBX_TIMEOUT_MS', 10_000, 100, 600_000),
      timezone
    },
    keys,
    host,
    port,
    publicUrl,
    trustProxy: parseTrustProxy(env.TRUST_PROXY, problems),
    corsOrigins: r.list('CORS_ORIGINS'),
    tls: tlsCert !== '' && tlsKey !== '' ? { cert: tlsCert, key: tlsKey } : null,
    rateLimitPerMinute: r.int('RATE_LIMIT_PER_MINUTE', 600, 1, 10_000_000),
    makecallDedupMs: r.int('MAKECALL_DEDUP_MS', 2000, 0, 60_000),
    webhooks: {
      targets,
      timeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
      retrySchedule,
      maxAgeMs: r.int('WEBHOOK_MAX_AGE_HOURS', 72, 1, 24 * 365) * 3_600_000,
      concurrency: r.int('WEBHOOK_CONCURRENCY', 16, 1, 1000),
      internalCalls: r.bool('WEBHOOK_INTERNAL_CALLS', true),
      recordingFullInfo: r.bool('RECORDING_FULL_INFO', false),
      callEndGraceMs: r.int('CALL_END_GRACE_MS', 2000, 0, 60_000)
    },
    recordings: {
      source,
      dir: recordingsDir,
      mp3Dir: path.resolve(r.str('MP3_DIR', path.join(dataDir, 'mp3'))),
      retentionDays: r.int('MP3_RETENTION_DAYS', 30, 1, 36_500),
      retentionCron: r.str('RETENTION_CRON', '30 3 * * *'),
      bitrateKbps: r.int('MP3_BITRATE_KBPS', 32, 8, 320),
      ffmpegPath: r.str('FFMPEG_PATH', ''),
      concurrency: r.int('FFMPEG_CONCURRENCY', 2, 1, 64),
      // 3CX writes a recording up to ~2 s after hang-up: shorter, a recorded leg could be taken for unrecorded.
      giveUpMs: r.int('RECORDINGS_GIVE_UP_MS', DEFAULT_RECORDINGS_GIVE_UP_MS, 3000, 3_600_000, '3CX writes a recording up to ~2 s after the call, and a leg whose files do not show in time is not announced'),
      settleMs: r.int('RECORDINGS_SETTLE_MS', 3000, 0, 600_000)
    },
    reports: {
      maxRangeDays: r.int('REPORT_MAX_RANGE_DAYS', 7, 1, 366),
      pageSize: r.int('REPORT_PAGE_SIZE', 1000, 10, 100_000),
      maxSpanDays: r.int('REPORT_MAX_SPAN_DAYS', 366, 1, 1827)
    },
    dataDir,
    simPort: r.int('SIM_PORT', 0, 0, 65535),
    databaseUrl,
    // A standby holds one connection for LISTEN: one more is needed for every query.
    databasePoolMax: r.int('DATABASE_POOL_MAX', 10, 2, 1000, 'each pool needs one connection for queries besides the one a standby holds for LISTEN'),
    replicaLeaseMs: r.int('REPLICA_LEASE_MS', DEFAULT_REPLICA_LEASE_MS, 1000, 60_000, 'a dead replica\'s PBX streams are taken over about this long after it died'),
    demoTrafficPerMinute: r.int('DEMO_TRAFFIC', 4, 0, 60_000),
    // Under Docker's default stop timeout (10 s), after which it sends SIGKILL.
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 8000, 1000, 600_000, 'keep it below your supervisor\'s stop timeout: Docker\'s default is 10 s'),
    logLevel,
    logFormat: r.oneOf('LOG_FORMAT', LOG_FORMATS, 'auto'),
    configIni: r.str('CONFIG_INI', ''),
    tenantsFile
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

export function validTimeZone (tz: string): boolean {
  // The default needs no check: the first Intl.DateTimeFormat loads time zone data (~25 ms of start-up).
  if (tz === 'UTC') return true
  try {
    // eslint-disable-next-line no-new
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** `key[:scope],…`. For the server outside demo mode at least one key of ≥ 16 characters is required. */
function parseKeys (raw: string | undefined, demo: boolean, serving: boolean, problems: string[]): GatewayKey[] {
  if (raw === undefined || raw.trim() === '') {
    if (!serving) return []
    if (demo) return [{ key: 'demo', scope: 'control' }]
    problems.push('GATEWAY_KEYS: required; comma-separated API keys, each optionally followed by :read or :control (e.g. GATEWAY_KEYS=$(openssl rand -hex 16):control)')
    return []
  }
  const keys: GatewayKey[] = []
  const seen = new Map<string, number>()
  raw.split(',').map((s) => s.trim()).filter(Boolean).forEach((item, i) => {
    const idx = item.lastIndexOf(':')
    const key = idx > 0 ? item.slice(0, idx) : item
    const scope = idx > 0 ? item.slice(idx + 1).toLowerCase() : 'control'
    // The same key twice (`K:read,K:control`) would silently act with the wider scope.
    const first = seen.get(key)
    if (first !== undefined) {
      problems.push(`GATEWAY_KEYS: key #${i + 1} is the same key as key #${first}; list each key once, with the one scope it should have`)
      return
    }
    seen.set(key, i + 1)
    if (scope !== 'read' && scope !== 'control') {
      problems.push(`GATEWAY_KEYS: key #${i + 1} has scope "${scope}"; expected read or control`)
      return
    }
    const problem = keyProblem(key, demo ? 1 : 16)
    if (problem !== null) {
      problems.push(`GATEWAY_KEYS: key #${i + 1} ${problem}`)
      return
    }
    keys.push({ key, scope })
  })
  return keys
}

/** What is wrong with a gateway key (too short, characters a URL or the list would mangle), or null. */
export function keyProblem (key: string, minLength = 16): string | null {
  if (key.length < minLength) return `is ${key.length} characters long; use at least ${minLength} (e.g. openssl rand -hex 16)`
  if (!/^[\x21-\x7e]+$/.test(key) || key.includes('/') || key.includes(',')) return 'may only contain printable ASCII without spaces, "/" or ","'
  return null
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * TRUST_PROXY → Fastify's `trustProxy`. `off` (default): X-Forwarded-For is ignored. A list of
 * proxy addresses / CIDR ranges (or loopback, linklocal, uniquelocal): the client address is the
 * right-most X-Forwarded-For entry that is not one of them, so a client cannot choose it. `on` is
 * `loopback` (a proxy on this machine). Fastify's `true` (left-most entry, client-controlled) and
 * hop counts are never used: they would let clients dodge the failed-key throttle.
 */
function parseTrustProxy (raw: string | undefined, problems: string[]): false | string[] {
  const v = (raw ?? '').trim()
  if (v === '' || /^(0|false|off|no)$/i.test(v)) return false
  if (/^(1|true|on|yes)$/i.test(v)) return ['loopback']
  const proxies = v.split(/[\s,]+/).filter(Boolean)
  const bad = proxies.find((p) => !isProxyAddress(p))
  if (bad !== undefined) {
    problems.push(`TRUST_PROXY: "${bad.slice(0, 60)}" is not an IP address, a CIDR range or loopback/linklocal/uniquelocal; ` +
      'list the addresses of your reverse proxies (e.g. TRUST_PROXY=10.0.0.5,10.0.1.0/24), use on for a proxy on this machine, or off')
  }
  return proxies
}

function isProxyAddress (s: string): boolean {
  if (PROXY_NAMES.has(s)) return true
  const [addr, prefix, extra] = s.split('/')
  const family = isIP(addr)
  if (family === 0 || extra !== undefined) return false
  if (prefix === undefined) return true
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1
  return bits >= 0 && bits <= (family === 4 ? 32 : 128)
}

export function parseSecrets (variable: string, raw: string | undefined, problems: string[]): string[] {
  if (raw === undefined || raw.trim() === '') return []
  const secrets = raw.split(/[\s,]+/).filter(Boolean)
  secrets.forEach((s, i) => {
    const b64 = s.startsWith('whsec_') ? s.slice(6) : s
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || Buffer.from(b64, 'base64').length < 24) {
      problems.push(`${variable}: secret #${i + 1} must be "whsec_" followed by base64 of at least 24 random bytes (e.g. whsec_$(openssl rand -base64 32))`)
    }
  })
  return secrets
}

function parseTargets (raw: string, defaults: { format: WebhookFormat, eventNames: WebhookEventNames, secrets: string[] }, problems: string[]): WebhookTargetConfig[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    problems.push('WEBHOOK_TARGETS: expected a JSON array of {"name","url","format","secret","events","extensions","didRules"} objects')
    return []
  }
  if (!Array.isArray(parsed)) {
    problems.push('WEBHOOK_TARGETS: expected a JSON array')
    return []
  }
  const out: WebhookTargetConfig[] = []
  parsed.forEach((item: unknown, i) => {
    const where = `WEBHOOK_TARGETS[${i}]`
    if (typeof item !== 'object' || item === null) { problems.push(`${where}: expected an object`); return }
    const o = item as Record<string, unknown>
    const url = typeof o.url === 'string' ? o.url : ''
    if (!isHttpUrl(url)) { problems.push(`${where}.url: expected an http(s) URL`); return }
    const format = o.format ?? defaults.format
    if (format !== 'json' && format !== 'form' && format !== 'get') { problems.push(`${where}.format: expected json, form or get`); return }
    const eventNames = o.eventNames ?? defaults.eventNames
    if (eventNames !== 'legacy' && eventNames !== 'pickup') { problems.push(`${where}.eventNames: expected legacy or pickup`); return }
    const strings = (k: string): string[] | null => {
      const v = o[k]
      if (v === undefined) return []
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
      problems.push(`${where}.${k}: expected an array of strings`)
      return null
    }
    const events = strings('events')
    const extensions = strings('extensions')
    const didRules = strings('didRules')
    if (events === null || extensions === null || didRules === null) return
    const badEvent = events.find((e) => !['ringing', 'started', 'ended', 'recording'].includes(e))
    if (badEvent !== undefined) { problems.push(`${where}.events: "${badEvent}" is not one of ringing, started, ended, recording`); return }
    const secrets = o.secret === undefined ? defaults.secrets : parseSecrets(`${where}.secret`, String(o.secret), problems)
    out.push({
      name: typeof o.name === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(o.name) ? o.name : `target${i + 1}`,
      url,
      format,
      eventNames,
      secrets,
      events: events as WebhookEventType[],
      extensions,
      didRules
    })
  })
  return out
}

/** The effective configuration with every secret masked, for `config check` and the start log. */
export function describeConfig (c: Config): Record<string, unknown> {
  const mask = (s: string): string => (s === '' ? '' : '***')
  return {
    mode: c.demo ? 'demo' : 'pbx',
    pbx: { url: c.pbx.url, clientId: c.pbx.clientId, clientSecret: mask(c.pbx.clientSecret), timeoutMs: c.pbx.timeoutMs, timezone: c.pbx.timezone },
    keys: c.keys.map((k) => ({ key: '***', scope: k.scope })),
    listen: `${c.tls !== null ? 'https' : 'http'}://${c.host}:${c.port}`,
    publicUrl: c.publicUrl,
    trustProxy: c.trustProxy,
    corsOrigins: c.corsOrigins,
    webhooks: {
      ...c.webhooks,
      targets: c.webhooks.targets.map((t) => ({ ...t, url: safeUrlText(t.url), secrets: t.secrets.map(() => '***') }))
    },
    recordings: c.recordings,
    reports: c.reports,
    dataDir: c.dataDir,
    simPort: c.simPort,
    database: c.databaseUrl === null ? 'sqlite' : redactDatabaseUrl(c.databaseUrl),
    ...(c.databaseUrl !== null ? { databasePoolMax: c.databasePoolMax, replicaLeaseMs: c.replicaLeaseMs } : {}),
    demoTrafficPerMinute: c.demoTrafficPerMinute,
    shutdownTimeoutMs: c.shutdownTimeoutMs,
    logLevel: c.logLevel,
    logFormat: c.logFormat,
    ...(c.tenantsFile !== null ? { tenantsFile: c.tenantsFile } : {})
  }
}
