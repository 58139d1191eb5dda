// `3cx-gateway tenants add|list|remove|rotate-key`: the tenants table in DATABASE_URL. Keys are
// made here (random, 32 characters), printed once and stored as their SHA-256; and the table's
// tenants as TenantDefinitions for serving (secrets written `${VAR}` taken from the environment).
import { randomBytes } from 'node:crypto'
import { ConfigError, parseSecrets, validTimeZone, type Config, type KeyScope } from '../config.js'
import { isHttpUrl } from '../env-reader.js'
import type { ParsedCommandLine } from '../cli-help.js'
import { expand, TENANT_ID, TENANT_ID_RULE, type TenantDefinition } from './tenants-file.js'
import { keyDigest } from './tenant-routing.js'
import type { StoredTenant, TenantsTable } from './tenants-table.js'

interface Io { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }

export async function runTenantsCommand (name: string, config: Config, cmd: ParsedCommandLine, io: Io, open: (url: string) => Promise<TenantsTable>): Promise<number> {
  const fail = (message: string): number => { io.stderr.write(`3cx-gateway ${name}: ${message}\n`); return 2 }
  if (config.databaseUrl === null) return fail('the tenants table is in PostgreSQL: set DATABASE_URL (or list the tenants in a TENANTS_FILE instead)')
  const id = cmd.positionals[0]
  if (name !== 'tenants list') {
    if (id === undefined) return fail('name the tenant: 3cx-gateway ' + name + ' <id>')
    if (!TENANT_ID.test(id)) return fail(`"${id.slice(0, 40)}" is not a tenant id: ${TENANT_ID_RULE}`)
  }
  const scope = String(cmd.values.scope ?? 'control')
  if (scope !== 'read' && scope !== 'control') return fail(`--scope is read or control, not "${scope.slice(0, 20)}"`)
  let tenant: StoredTenant | null = null
  if (name === 'tenants add') {
    const problems = addProblems(cmd.values)
    if (problems.length > 0) return fail(problems.join('; '))
    tenant = {
      id: id as string,
      pbxUrl: String(cmd.values['pbx-url']).replace(/\/+$/, ''),
      clientId: String(cmd.values['client-id']),
      clientSecret: String(cmd.values['client-secret']),
      timezone: typeof cmd.values.timezone === 'string' ? cmd.values.timezone : null,
      webhooks: typeof cmd.values.webhook === 'string'
        ? [{ name: 'crm', url: cmd.values.webhook, format: 'json', eventNames: 'legacy', secrets: typeof cmd.values['webhook-secret'] === 'string' ? [cmd.values['webhook-secret']] : [], events: [], extensions: [], didRules: [] }]
        : [],
      recordings: null,
      keys: [],
      createdAt: Date.now()
    }
  }
  const table = await open(config.databaseUrl)
  try {
    switch (name) {
      case 'tenants list': {
        const tenants = await table.list()
        if (tenants.length === 0) { io.stdout.write('no tenants in the table (add one with 3cx-gateway tenants add <id> …)\n'); return 0 }
        for (const t of tenants) {
          const keys = (['control', 'read'] as const).map((s) => `${t.keys.filter((k) => k.scope === s).length} ${s}`).join(', ')
          io.stdout.write(`${t.id}\t${t.pbxUrl}\tclient ${t.clientId}\tkeys: ${keys}\twebhooks: ${t.webhooks.map((w) => w.name).join(', ') || '-'}\n`)
        }
        return 0
      }
      case 'tenants add': {
        const { key, stored } = newKey(scope)
        if (!await table.add({ ...(tenant as StoredTenant), keys: [stored] })) return fail(`tenant "${id as string}" already exists (3cx-gateway tenants rotate-key ${id as string} makes a new key)`)
        io.stdout.write(`tenant ${id as string} added (running gateways start it within seconds). Its ${scope} key, shown only now: ${key}\n`)
        return 0
      }
      case 'tenants remove':
        if (!await table.remove(id as string)) return fail(`there is no tenant "${id as string}"`)
        io.stdout.write(`tenant ${id as string} removed with its keys (running gateways stop it within seconds: its deliveries drained, its API gone); its stored state (schema tenant_${id as string}, DATA_DIR/tenants/${id as string}) is kept\n`)
        return 0
      case 'tenants rotate-key': {
        const { key, stored } = newKey(scope)
        if (!await table.replaceKeys(id as string, stored)) return fail(`there is no tenant "${id as string}"`)
        io.stdout.write(`tenant ${id as string}: its ${scope} keys are replaced (running gateways refuse the old one and take the new one within seconds). The new key, shown only now: ${key}\n`)
        return 0
      }
      default:
        throw new Error(`no case for ${name}`)
    }
  } finally {
    await table.close()
  }
}

function newKey (scope: KeyScope): { key: string, stored: { sha256: string, scope: KeyScope } } {
  const key = randomBytes(24).toString('base64url')
  return { key, stored: { sha256: keyDigest(key), scope } }
}

function addProblems (v: ParsedCommandLine['values']): string[] {
  const problems: string[] = []
  const str = (k: string): string => (typeof v[k] === 'string' ? v[k] : '')
  const isRef = (s: string): boolean => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(s)
  if (!isHttpUrl(str('pbx-url'))) problems.push('--pbx-url: the PBX\'s https:// URL is required')
  if (!/^\d{1,10}$/.test(str('client-id'))) problems.push('--client-id: the numeric id of the 3CX API client is required')
  if (str('client-secret') === '') problems.push('--client-secret is required (\'${VAR}\' keeps it in the environment)')
  if (v.timezone !== undefined && !validTimeZone(str('timezone'))) problems.push(`--timezone: "${str('timezone').slice(0, 40)}" is not an IANA time zone`)
  if (v.webhook !== undefined && !isHttpUrl(str('webhook'))) problems.push('--webhook: expected an http(s) URL')
  if (v['webhook-secret'] !== undefined && !isRef(str('webhook-secret'))) parseSecrets('--webhook-secret', str('webhook-secret'), problems)
  return problems
}

/** The table's tenants, ready to serve: `${VAR}` references resolved; every unset one is a problem. */
export function definitionsFromTable (rows: readonly StoredTenant[], env: NodeJS.ProcessEnv = process.env): TenantDefinition[] {
  const problems: string[] = []
  const out = rows.map((r) => {
    const resolve = (value: string, field: string): string => expand(value, env, (m) => { problems.push(`tenants table: ${r.id}.${field}: ${m}`) })
    return {
      id: r.id,
      pbx: { url: r.pbxUrl, clientId: r.clientId, clientSecret: resolve(r.clientSecret, 'clientSecret'), ...(r.timezone !== null ? { timezone: r.timezone } : {}) },
      keys: r.keys.map((k) => ({ key: '', scope: k.scope, sha256: k.sha256 })),
      webhooks: r.webhooks.map((w) => ({ ...w, secrets: w.secrets.map((s) => resolve(s, `webhooks.${w.name}.secret`)) })),
      ...(r.recordings !== null ? { recordings: r.recordings } : {})
    }
  })
  if (problems.length > 0) throw new ConfigError(problems)
  return out
}
