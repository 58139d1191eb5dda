import t from 'tap'
import type { Test } from 'tap'
import type { WebhookTargetConfig } from '../../../src/config.js'
import { createPgStore, type PgStore } from '../../../src/store/pg/pg-pool.js'
import { migratePg } from '../../../src/store/pg/pg-migrations.js'
import { PgOutbox } from '../../../src/store/pg/pg-outbox.js'
import { outboxContract } from '../outbox-contract.js'
import { testDatabase } from './pg-test-db.js'

async function openPg (t: Test, targets: WebhookTargetConfig[], now: () => number = Date.now): Promise<{ outbox: PgOutbox, store: PgStore, url: string }> {
  const url = await testDatabase(t)
  const store = createPgStore(url, { settleMs: 0 })
  t.teardown(store.close)
  await migratePg(store.pool, store.name)
  return { outbox: new PgOutbox(store, { targets, now }), store, url }
}

outboxContract(t, async (t, targets, now) => (await openPg(t, targets, now)).outbox)
