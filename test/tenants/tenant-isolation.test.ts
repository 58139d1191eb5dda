// Two tenants on SQLite: each in DATA_DIR/tenants/<id>/gateway.db; calls, events and webhooks of one
// never visible to the other (two-tenants.ts).
import t from 'tap'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { checkIsolation, startTwoTenants } from './two-tenants.js'

t.test('SQLite: two tenants, each with its own file, see only their own calls, events and webhooks', async (t) => {
  const x = await startTwoTenants(t)
  for (const id of ['acme', 'beta']) t.ok(existsSync(path.join(x.dataDir, 'tenants', id, 'gateway.db')), `DATA_DIR/tenants/${id}/gateway.db`)
  t.notOk(existsSync(path.join(x.dataDir, 'gateway.db')), 'no shared gateway.db')
  await checkIsolation(t, x)
})
