// `3cx-gateway sim snapshot --out my-pbx.yaml`: reads a PBX's XAPI (a real one, or a simulator) with an
// API client and writes a PBX definition (pbx-definition.ts) the simulator can run. Names, e-mail
// addresses and phone numbers are pseudonymised unless --keep-names; the client secret is never
// written (the definition gets `sim-secret`).
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import type { PbxDefinition } from './pbx-definition.js'

type Row = Record<string, any>
export type XapiGet = (path: string) => Promise<Row[]>

const FIRST = ['Anna', 'Tom', 'Maria', 'John', 'Olga', 'Peter', 'Sara', 'Liam', 'Emma', 'Noah']
const LAST = ['Miller', 'Smith', 'Garcia', 'Brown', 'Ivanova', 'Jones', 'Davis', 'Wilson', 'Taylor', 'Moore']

/** Reads the directory through `get` and builds the definition. Pure apart from `get`. */
export async function snapshotDefinition (get: XapiGet, clientId: string, keepNames: boolean): Promise<PbxDefinition> {
  const [users, groups, queues, ringGroups, ivrs, trunks, rules, principals] = await Promise.all([
    get('Users?$select=Number,FirstName,LastName,EmailAddress,IsRegistered,Enabled'),
    get('Groups?$select=Name,Number&$expand=Members($select=Number)'),
    get('Queues?$select=Number,Name,PollingStrategy,RingTimeout,MasterTimeout&$expand=Agents($select=Number)'),
    get('RingGroups?$select=Number,Name,RingStrategy,RingTime&$expand=Members($select=Number)'),
    get('Receptionists?$select=Number,Name,Timeout&$expand=Forwards'),
    get('Trunks?$select=Number'),
    get('InboundRules?$select=RuleName,Data,OfficeHoursDestination&$expand=TrunkDN($select=Number)'),
    // The client's monitored DNs: its Pbx.ServicePrincipal's Peers (3cx-v20.md §1). A PBX that does
    // not answer this (an older version, a narrower role) leaves the definition at `monitored: all`.
    get('ServicePrincipals?$select=Number&$expand=Peers($select=Number)').catch(() => null)
  ])
  const phone = new Map<string, string>()
  const pseudoPhone = (n: string): string => {
    if (keepNames || n === '') return n
    if (!phone.has(n)) phone.set(n, `+1555020${String(phone.size).padStart(4, '0')}`)
    return phone.get(n) as string
  }
  const name = (text: string, kind: string, i: number): string => keepNames ? text : `${kind} ${i + 1}`
  const extensions = new Set(users.map((u) => String(u.Number)))
  const inPbx = (n: string): boolean => extensions.has(n)
  const strategy = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T => allowed.includes(value as T) ? value as T : fallback
  return {
    users: users.map((u, i) => ({
      number: String(u.Number),
      firstName: keepNames ? String(u.FirstName ?? '') || 'User' : FIRST[i % FIRST.length],
      lastName: keepNames ? String(u.LastName ?? '') || String(u.Number) : `${LAST[Math.floor(i / FIRST.length) % LAST.length]}${i >= FIRST.length * LAST.length ? String(i) : ''}`,
      ...(keepNames && typeof u.EmailAddress === 'string' && u.EmailAddress !== '' ? { email: u.EmailAddress } : {}),
      registered: u.IsRegistered === true,
      ...(u.Enabled === false ? { enabled: false } : {})
    })),
    departments: groups.map((g, i) => ({ name: i === 0 ? String(g.Name) : name(String(g.Name), 'Department', i), number: String(g.Number), members: (g.Members ?? []).map((m: Row) => String(m.Number)).filter(inPbx) })),
    queues: queues.map((q, i) => ({
      number: String(q.Number), name: name(String(q.Name), 'Queue', i), strategy: strategy(q.PollingStrategy, ['RingAll', 'Hunt'] as const, 'Hunt'),
      ringTimeout: Number(q.RingTimeout ?? 20), masterTimeout: Number(q.MasterTimeout ?? 60), agents: (q.Agents ?? []).map((a: Row) => String(a.Number)).filter(inPbx)
    })),
    ringGroups: ringGroups.map((g, i) => ({
      number: String(g.Number), name: name(String(g.Name), 'Ring group', i), strategy: strategy(g.RingStrategy, ['RingAll', 'Hunt', 'Paging'] as const, 'RingAll'),
      ringTime: Number(g.RingTime ?? 20), members: (g.Members ?? []).map((m: Row) => String(m.Number)).filter(inPbx)
    })),
    ivrs: ivrs.map((v, i) => ({
      number: String(v.Number), name: name(String(v.Name), 'IVR', i), timeout: Number(v.Timeout ?? 10),
      options: Object.fromEntries((v.Forwards ?? []).filter((f: Row) => /^[0-9*#]$/.test(String(f.Input)) && f.ForwardDN !== '').map((f: Row) => [String(f.Input), String(f.ForwardDN)]))
    })),
    trunks: trunks.map((t, i) => ({ number: String(t.Number), name: `Trunk ${i + 1}` })),
    dids: rules.filter((r) => r.Data !== '' && typeof r.OfficeHoursDestination?.Number === 'string' && r.OfficeHoursDestination.Number !== '').map((r, i) => ({
      number: pseudoPhone(String(r.Data)), name: name(String(r.RuleName), 'Rule', i), to: String(r.OfficeHoursDestination.Number),
      ...(r.TrunkDN?.Number !== undefined ? { trunk: String(r.TrunkDN.Number) } : {})
    })),
    apiClients: [{ clientId, secret: 'sim-secret', role: 'SystemOwner', monitored: monitoredOf(principals, clientId, [...users, ...queues, ...ringGroups, ...ivrs, ...trunks].map((x) => String(x.Number))) }]
  }
}

/**
 * The client's monitored DNs from its ServicePrincipal's Peers, only numbers of DNs the definition has
 * (nothing else can leave the PBX this way, and the simulator accepts nothing else); `all` when the PBX
 * did not list the client.
 */
export function monitoredOf (principals: Row[] | null, clientId: string, dnNumbers: readonly string[]): 'all' | string[] {
  const own = principals?.find((p) => String(p.Number) === clientId)
  if (!Array.isArray(own?.Peers)) return 'all'
  const known = new Set(dnNumbers)
  return [...new Set((own.Peers as Row[]).map((p) => String(p.Number)))].filter((n) => known.has(n) && n !== clientId)
}

interface Io { stdout: { write: (s: string) => unknown }, stderr: { write: (s: string) => unknown } }

/** The `sim snapshot` command. Exit code 0, 1 (the PBX failed) or 2 (usage). */
export async function runSnapshot (args: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { out?: string, url?: string, 'client-id'?: string, secret?: string, 'keep-names'?: boolean }
  try {
    values = parseArgs({ args, options: { out: { type: 'string' }, url: { type: 'string' }, 'client-id': { type: 'string' }, secret: { type: 'string' }, 'keep-names': { type: 'boolean' } }, strict: true }).values
  } catch (err) {
    io.stderr.write(`3cx-gateway sim snapshot: ${(err as Error).message}\n`)
    return 2
  }
  const url = (values.url ?? env.PBX_URL ?? '').replace(/\/+$/, '')
  const clientId = values['client-id'] ?? env.PBX_CLIENT_ID ?? ''
  const secret = values.secret ?? env.PBX_CLIENT_SECRET ?? ''
  if (values.out === undefined || url === '' || clientId === '' || secret === '') {
    io.stderr.write('usage: 3cx-gateway sim snapshot --out FILE [--url URL --client-id ID --secret S] [--keep-names]\n  (URL and client default to PBX_URL, PBX_CLIENT_ID, PBX_CLIENT_SECRET)\n')
    return 2
  }
  try {
    const tokenRes = await fetch(`${url}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).toString()
    })
    if (!tokenRes.ok) throw new Error(`the PBX refused the API client (token request answered ${tokenRes.status})`)
    const token = ((await tokenRes.json()) as { access_token: string }).access_token
    const get: XapiGet = async (path) => {
      const res = await fetch(`${url}/xapi/v1/${path}`, { headers: { authorization: `Bearer ${token}` } })
      if (!res.ok) throw new Error(`GET /xapi/v1/${path.split('?')[0]} answered ${res.status}`)
      return ((await res.json()) as { value: Row[] }).value
    }
    const def = await snapshotDefinition(get, clientId, values['keep-names'] === true)
    writeFileSync(values.out, `# PBX definition read from ${new URL(url).host} by 3cx-gateway sim snapshot${values['keep-names'] === true ? '' : ' (pseudonymised)'}.\n${stringify(def, { lineWidth: 0 })}`)
    io.stdout.write(`wrote ${values.out}: ${def.users.length} users, ${def.queues?.length ?? 0} queues, ${def.ringGroups?.length ?? 0} ring groups, ${def.dids?.length ?? 0} DIDs\n`)
    return 0
  } catch (err) {
    io.stderr.write(`3cx-gateway sim snapshot: ${(err as Error).message}\n`)
    return 1
  }
}
