// The durable outbox and webhook delivery (src/webhooks) in their own process, with the gateway's
// default delivery settings, against one receiver: `enqueue` stores N call-ended events (on
// `chains` calls), one transaction each as the call model does, with delivery stopped; `deliver` starts delivery and resolves once every one was
// delivered. With BENCH_PG_URL the outbox is PostgreSQL's, as a replica runs it (write-behind
// enqueue, deliveries claimed chain by chain with FOR UPDATE SKIP LOCKED); else SQLite's.
import { mkdtempSync, rmSync } from 'node:fs'
import path from 'node:path'
import { loadConfig, type WebhookTargetConfig } from '../../src/config.js'
import { eventOf, type CallEvent } from '../../src/calls/call-events.js'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { createPgStore } from '../../src/store/pg/pg-pool.js'
import { migratePg } from '../../src/store/pg/pg-migrations.js'
import { PgOutboxStore } from '../../src/store/pg/pg-outbox-store.js'
import type { OutboxStore } from '../../src/webhooks/outbox-store.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import { serveIpc } from './ipc-server.js'

export interface DeliveryInfo { pid: number, concurrency: number }

const receiverUrl = process.env.BENCH_RECEIVER_URL ?? ''
// The gateway's defaults for everything but the target (the PBX settings are only there to validate).
const config = loadConfig({ PBX_URL: 'http://127.0.0.1:1', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'unused', GATEWAY_KEYS: 'x'.repeat(32), WEBHOOK_URLS: receiverUrl })
const target: WebhookTargetConfig = config.webhooks.targets[0]
const dataDir = mkdtempSync(path.join(process.env.BENCH_TMP ?? '/tmp', 'outbox-'))
const db = openDatabase(dataDir)
const pgUrl = process.env.BENCH_PG_URL
const pg = pgUrl === undefined ? null : createPgStore(pgUrl)
if (pg !== null) await migratePg(pg.pool, pg.name)
const pgOutbox = pg === null ? null : new PgOutboxStore(pg, { targets: [target], claim: { consumer: `bench-${process.pid}`, leaseMs: config.webhooks.timeoutMs + 5000 } })
await pgOutbox?.open()
const outbox: OutboxStore = pgOutbox ?? new SqliteOutbox(db, { targets: [target] })
const delivery = new WebhookDelivery({ outbox, config: config.webhooks })

/** A call-ended event as the call model emits it. */
function endedEvent (n: number, chains: number): CallEvent {
  const callid = 5000 + (n % chains)
  const chid = `261101120000_${callid}`
  return eventOf({
    event: 'incoming',
    id: `${chid}-1`,
    chid,
    timestamp: new Date(Date.UTC(2026, 10, 1, 12) + n * 1000).toISOString(),
    callername: 'Jane Caller',
    callerid: `+1555${String(2_000_000 + n).slice(-7)}`,
    user: String(100 + (n % 15)),
    did: 'Sales line',
    finishtype: 'Ok',
    transfer: 'false',
    title: 'Incoming call from +15552000000 to 101, 2:15',
    duration: 135
  })
}

serveIpc({
  enqueueOneByOne: async ({ count, chains }: { count: number, chains: number }) => {
    const started = performance.now()
    for (let j = 0; j < count; j++) outbox.enqueue(endedEvent(j, chains))
    await pgOutbox?.written() // PostgreSQL's write-behind: stored once committed
    return { ms: performance.now() - started }
  },
  deliver: async ({ count, timeoutMs }: { count: number, timeoutMs: number }) => {
    const started = performance.now()
    delivery.start()
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const s = delivery.stats()[0]
      if (s.delivered + s.failures >= count || Date.now() > deadline) {
        return { ms: performance.now() - started, delivered: s.delivered, failures: s.failures }
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  },
  close: async () => {
    await delivery.stop(2000)
    await outbox.close()
    await pg?.close()
    db.close()
    rmSync(dataDir, { recursive: true, force: true })
    setTimeout(() => process.exit(0), 20)
  }
}, { pid: process.pid, concurrency: config.webhooks.concurrency } satisfies DeliveryInfo)
