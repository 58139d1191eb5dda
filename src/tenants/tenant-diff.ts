// What changed between the tenants a gateway serves and the ones it should serve (a reloaded
// TENANTS_FILE or tenants table): pure, no I/O. A tenant whose PBX, webhook targets or recordings
// changed needs a fresh service graph (its PBX client, outbox targets and recordings source are
// built from them); one whose keys alone changed keeps its graph, and its keys are swapped in place.
import type { TenantDefinition } from './tenants-file.js'

export interface TenantDiff {
  added: TenantDefinition[]
  removed: string[]
  /** PBX credentials, time zone, webhook targets or recordings changed: stopped and built again. */
  rebuilt: TenantDefinition[]
  /** Only the keys changed (rotated, added, dropped, re-scoped): updated in place. */
  rekeyed: TenantDefinition[]
}

/** A key as the gateway compares it: by its digest when only that is known (the tenants table). */
function keyIdentity (k: TenantDefinition['keys'][number]): string {
  return `${k.scope}:${k.sha256 !== undefined ? `sha256:${k.sha256}` : `key:${k.key}`}`
}

/** Everything of a tenant but its id and keys, in a canonical form (key order in objects ignored). */
function settings (d: TenantDefinition): string {
  return canonical({ pbx: d.pbx, webhooks: d.webhooks, recordings: d.recordings ?? null })
}

function sameKeys (a: TenantDefinition, b: TenantDefinition): boolean {
  const x = a.keys.map(keyIdentity).sort()
  const y = b.keys.map(keyIdentity).sort()
  return x.length === y.length && x.every((k, i) => k === y[i])
}

export function diffTenants (running: readonly TenantDefinition[], next: readonly TenantDefinition[]): TenantDiff {
  const before = new Map(running.map((d) => [d.id, d]))
  const after = new Map(next.map((d) => [d.id, d]))
  const out: TenantDiff = { added: [], removed: [], rebuilt: [], rekeyed: [] }
  for (const id of before.keys()) if (!after.has(id)) out.removed.push(id)
  for (const d of after.values()) {
    const old = before.get(d.id)
    if (old === undefined) out.added.push(d)
    else if (settings(old) !== settings(d)) out.rebuilt.push(d)
    else if (!sameKeys(old, d)) out.rekeyed.push(d)
  }
  return out
}

export function isEmptyDiff (d: TenantDiff): boolean {
  return d.added.length + d.removed.length + d.rebuilt.length + d.rekeyed.length === 0
}

/** The diff for the log: ids only, never a key or secret. */
export function describeDiff (d: TenantDiff): string {
  const parts = [['added', d.added.map((t) => t.id)], ['removed', d.removed], ['rebuilt', d.rebuilt.map((t) => t.id)], ['keys changed', d.rekeyed.map((t) => t.id)]] as const
  return parts.filter(([, ids]) => ids.length > 0).map(([what, ids]) => `${what}: ${ids.join(', ')}`).join('; ')
}

function canonical (v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => (value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)))
    : value))
}
