// The tenants table (PostgreSQL, managed by `3cx-gateway tenants …`): the same tenants a
// TENANTS_FILE lists, kept in the database so they can be added and removed without editing a file.
// Keys are stored as their SHA-256 only: a key is shown once, when it is made, and never again.
import type { KeyScope, WebhookTargetConfig } from '../config.js'

export interface StoredTenantKey { sha256: string, scope: KeyScope }

export interface StoredTenant {
  id: string
  pbxUrl: string
  clientId: string
  /** As given: a `${VAR}` reference (resolved from the environment at start) or the secret itself. */
  clientSecret: string
  timezone: string | null
  /** Targets as given (secrets may be `${VAR}` references). */
  webhooks: WebhookTargetConfig[]
  recordings: 'xapi' | 'off' | null
  keys: StoredTenantKey[]
  createdAt: number
}

/** The port; src/store/pg/pg-tenants.ts implements it. */
export interface TenantsTable {
  list: () => Promise<StoredTenant[]>
  /** False when the id is taken. */
  add: (tenant: StoredTenant) => Promise<boolean>
  /** False when there is no such tenant. */
  remove: (id: string) => Promise<boolean>
  /** Replaces the tenant's keys of `key.scope` by `key`; false when there is no such tenant. */
  replaceKeys: (id: string, key: StoredTenantKey) => Promise<boolean>
  /** Whether another tenant already has this key (keys belong to one tenant). */
  keyTaken: (sha256: string) => Promise<boolean>
  /**
   * Calls `changed` after every change made through the table (by any process: the CLI commands
   * notify on commit) and every `pollMs` anyway; resolves to the function that stops it.
   */
  follow: (changed: () => void, pollMs: number) => Promise<() => Promise<void>>
  close: () => Promise<void>
}
