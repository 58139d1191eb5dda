// A tenant's own configuration: the gateway's (every setting the environment gives) with the
// tenant's PBX, keys and webhook targets, and its own storage: DATA_DIR/tenants/<id>/ for SQLite,
// the schema tenant_<id> with DATABASE_URL (services.ts), MP3s and links under its own prefix.
import path from 'node:path'
import type { Config } from '../config.js'
import type { TenantDefinition } from './tenants-file.js'

/** Where a tenant's API is reached on the shared port when the key does not say it. */
export function tenantPrefix (id: string): string {
  return `/t/${id}`
}

export function tenantConfig (base: Config, t: TenantDefinition): Config {
  const dataDir = path.join(base.dataDir, 'tenants', t.id)
  const defaultMp3Dir = base.recordings.mp3Dir === path.join(base.dataDir, 'mp3')
  return {
    ...base,
    demo: false,
    tenantId: t.id,
    pbx: { ...base.pbx, url: t.pbx.url, clientId: t.pbx.clientId, clientSecret: t.pbx.clientSecret, timezone: t.pbx.timezone ?? base.pbx.timezone },
    keys: t.keys,
    webhooks: { ...base.webhooks, targets: t.webhooks },
    recordings: {
      ...base.recordings,
      // RECORDINGS_DIR is one PBX's folder: tenants read their recordings through their own XAPI.
      source: t.recordings ?? (base.recordings.source === 'dir' ? 'xapi' : base.recordings.source),
      mp3Dir: defaultMp3Dir ? path.join(dataDir, 'mp3') : path.join(base.recordings.mp3Dir, t.id)
    },
    // Recording links carry the tenant's prefix: they are answered without a key.
    publicUrl: base.publicUrl === '' ? '' : `${base.publicUrl}${tenantPrefix(t.id)}`,
    dataDir
  }
}
