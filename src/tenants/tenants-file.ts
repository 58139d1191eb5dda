// TENANTS_FILE: the PBXs (tenants) one gateway serves, in YAML. Each tenant has its PBX and API
// client, its own gateway keys and webhook targets. Secrets are written as `${VAR}` and taken from
// the environment, so the file itself can be kept in version control. Every problem is reported at
// once as `file:line: tenants[2].pbx.url: …` (a ConfigError, like the environment's).
import { readFileSync } from 'node:fs'
import { ConfigError, keyProblem, parseSecrets, validTimeZone, type GatewayKey, type WebhookTargetConfig } from '../config.js'
import { isHttpUrl } from '../env-reader.js'
import { checkShape, isMapping, parseYamlFile, YamlSyntaxError, type Shape, type YamlFile, type YamlPath } from '../yaml-shape.js'

/** One tenant as the file describes it, secrets resolved. */
export interface TenantDefinition {
  id: string
  pbx: { url: string, clientId: string, clientSecret: string, timezone?: string }
  keys: GatewayKey[]
  webhooks: WebhookTargetConfig[]
  recordings?: 'xapi' | 'off'
}

/** Tenant ids: used in URLs (/t/<id>/), folder names and PostgreSQL schema names. */
export const TENANT_ID = /^[a-z][a-z0-9_]{0,31}$/
export const TENANT_ID_RULE = 'a lower-case letter followed by up to 31 lower-case letters, digits or _'

const TENANT: Shape = {
  id: { kind: 'string', required: true },
  pbx: { kind: 'object', required: true },
  keys: { kind: 'objects', required: true },
  webhooks: { kind: 'objects' },
  recordings: { kind: 'string', oneOf: ['xapi', 'off'] }
}
const PBX: Shape = {
  url: { kind: 'string', required: true },
  clientId: { kind: 'string', required: true },
  clientSecret: { kind: 'string', required: true },
  timezone: { kind: 'string' }
}
const KEY: Shape = { key: { kind: 'string', required: true }, scope: { kind: 'string', oneOf: ['read', 'control'] } }
const WEBHOOK: Shape = {
  name: { kind: 'string', required: true },
  url: { kind: 'string', required: true },
  format: { kind: 'string', oneOf: ['json', 'form', 'get'] },
  eventNames: { kind: 'string', oneOf: ['legacy', 'pickup'] },
  secret: { kind: 'string' },
  events: { kind: 'strings' },
  extensions: { kind: 'strings' },
  didRules: { kind: 'strings' }
}
const EVENT_TYPES = ['ringing', 'started', 'ended', 'recording']

/** Reads and checks TENANTS_FILE; throws ConfigError listing every problem. */
export function loadTenantsFile (file: string, env: NodeJS.ProcessEnv = process.env): TenantDefinition[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`TENANTS_FILE: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`])
  }
  return parseTenantsFile(text, file, env)
}

export function parseTenantsFile (text: string, file: string, env: NodeJS.ProcessEnv = process.env): TenantDefinition[] {
  let yaml: YamlFile
  try {
    yaml = parseYamlFile(text, file)
  } catch (err) {
    if (err instanceof YamlSyntaxError) throw new ConfigError([err.message])
    throw err
  }
  const problems: string[] = []
  const report = (path: YamlPath, message: string): void => { problems.push(yaml.describe(path, message)) }
  const root = yaml.value
  if (!isMapping(root) || !Array.isArray(root.tenants) || root.tenants.length === 0) {
    throw new ConfigError([yaml.describe([], 'a tenants file is a mapping with a list `tenants:` of at least one tenant (id, pbx, keys, webhooks)')])
  }
  for (const key of Object.keys(root)) if (key !== 'tenants') report([key], 'unknown section; the file has only `tenants:`')
  const ids = new Map<string, number>()
  const keyOwners = new Map<string, string>()
  const out: TenantDefinition[] = []
  root.tenants.forEach((item: unknown, i: number) => {
    const at: YamlPath = ['tenants', i]
    if (!checkShape(item, TENANT, at, report)) return
    const resolve = (value: string, path: YamlPath): string => expand(value, env, (m) => { report(path, m) })
    const id = item.id as string
    if (!TENANT_ID.test(id)) report([...at, 'id'], `"${id.slice(0, 40)}" is not a tenant id: ${TENANT_ID_RULE}`)
    const first = ids.get(id)
    if (first !== undefined) report([...at, 'id'], `tenant id "${id}" is already used by tenants[${first}]`)
    ids.set(id, i)
    const pbx = tenantPbx(item.pbx, [...at, 'pbx'], report, resolve)
    const keys = tenantKeys(item.keys as unknown[], [...at, 'keys'], report, resolve, id, keyOwners)
    const webhooks = tenantWebhooks((item.webhooks ?? []) as unknown[], [...at, 'webhooks'], report, resolve)
    if (pbx === null) return
    out.push({ id, pbx, keys, webhooks, ...(item.recordings !== undefined ? { recordings: item.recordings as 'xapi' | 'off' } : {}) })
  })
  if (problems.length > 0) throw new ConfigError(problems)
  return out
}

type Report = (path: YamlPath, message: string) => void
type Resolve = (value: string, path: YamlPath) => string

function tenantPbx (value: unknown, at: YamlPath, report: Report, resolve: Resolve): TenantDefinition['pbx'] | null {
  if (!checkShape(value, PBX, at, report)) return null
  const url = resolve(value.url as string, [...at, 'url']).replace(/\/+$/, '')
  if (!isHttpUrl(url)) report([...at, 'url'], 'expected the PBX\'s https:// URL, e.g. https://acme.3cx.example')
  const clientId = resolve(value.clientId as string, [...at, 'clientId'])
  if (!/^\d{1,10}$/.test(clientId)) report([...at, 'clientId'], 'expected the numeric client id of the 3CX API client (Admin > Integrations > API), e.g. \'599\'')
  const clientSecret = resolve(value.clientSecret as string, [...at, 'clientSecret'])
  if (clientSecret === '' && !(value.clientSecret as string).includes('${')) report([...at, 'clientSecret'], 'must not be empty; write it as ${VARIABLE} and set the variable')
  const timezone = value.timezone === undefined ? undefined : resolve(value.timezone as string, [...at, 'timezone'])
  if (timezone !== undefined && !validTimeZone(timezone)) report([...at, 'timezone'], `"${timezone}" is not an IANA time zone (e.g. Europe/Berlin)`)
  return { url, clientId, clientSecret, ...(timezone !== undefined ? { timezone } : {}) }
}

function tenantKeys (list: unknown[], at: YamlPath, report: Report, resolve: Resolve, id: string, owners: Map<string, string>): GatewayKey[] {
  if (list.length === 0) report(at, 'list at least one key (key: ${VARIABLE}, scope: read or control)')
  const keys: GatewayKey[] = []
  list.forEach((k, j) => {
    if (!checkShape(k, KEY, [...at, j], report)) return
    const key = resolve(k.key as string, [...at, j, 'key'])
    const problem = keyProblem(key)
    // The key itself never appears in a message: only where it is.
    if (problem !== null) { report([...at, j, 'key'], `the key ${problem}`); return }
    const owner = owners.get(key)
    if (owner !== undefined) { report([...at, j, 'key'], `this key is already a key of ${owner}; each key belongs to one tenant`); return }
    owners.set(key, `tenant "${id}"`)
    keys.push({ key, scope: (k.scope ?? 'control') as GatewayKey['scope'] })
  })
  return keys
}

function tenantWebhooks (list: unknown[], at: YamlPath, report: Report, resolve: Resolve): WebhookTargetConfig[] {
  const names = new Set<string>()
  const out: WebhookTargetConfig[] = []
  list.forEach((w, j) => {
    const here: YamlPath = [...at, j]
    if (!checkShape(w, WEBHOOK, here, report)) return
    const name = w.name as string
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name)) report([...here, 'name'], 'up to 40 letters, digits, _ . or -')
    if (names.has(name)) report([...here, 'name'], `target name "${name}" is used twice in this tenant`)
    names.add(name)
    const url = resolve(w.url as string, [...here, 'url'])
    if (!isHttpUrl(url)) report([...here, 'url'], 'expected an http(s) URL')
    const events = (w.events ?? []) as string[]
    const bad = events.find((e) => !EVENT_TYPES.includes(e))
    if (bad !== undefined) report([...here, 'events'], `"${bad}" is not one of ${EVENT_TYPES.join(', ')}`)
    const secretProblems: string[] = []
    const secrets = w.secret === undefined ? [] : parseSecrets('secret', resolve(w.secret as string, [...here, 'secret']), secretProblems)
    for (const p of secretProblems) report([...here, 'secret'], p.replace(/^secret: /, ''))
    out.push({
      name,
      url,
      format: (w.format ?? 'json') as WebhookTargetConfig['format'],
      eventNames: (w.eventNames ?? 'legacy') as WebhookTargetConfig['eventNames'],
      secrets,
      events: events as WebhookTargetConfig['events'],
      extensions: (w.extensions ?? []) as string[],
      didRules: (w.didRules ?? []) as string[]
    })
  })
  return out
}

/** `${VAR}` → the variable's value; an unset variable is a problem (never silently empty). */
export function expand (value: string, env: NodeJS.ProcessEnv, problem: (message: string) => void): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name]
    if (v === undefined || v === '') { problem(`\${${name}} is not set in the environment`); return '' }
    return v
  })
}
