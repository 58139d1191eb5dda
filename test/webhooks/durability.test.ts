// kill -9 in the middle of enqueuing and delivering: a new outbox + delivery on the same DATA_DIR
// delivers every event the killed process had committed; duplicates only for requests in flight.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { WebhookDelivery } from '../../src/webhooks/delivery.js'
import { startReceiver } from './receiver.js'
import { FAST, target, tempDir, until } from './helpers.js'
import { TS_CHILD_ARGS } from '../ts-child.js'

const child = fileURLToPath(new URL('./fixtures/outbox-child.ts', import.meta.url))

t.test('SIGKILL mid-enqueue and mid-delivery loses nothing', async (t) => {
  const dir = tempDir(t)
  let answered = 0
  // The first receiver acknowledges 30 requests, then stops answering: those stay in flight.
  const first = await startReceiver(0, () => (++answered <= 30 ? undefined : { delayMs: 60_000 }))
  t.teardown(first.close)
  const proc = spawn(process.execPath, [...TS_CHILD_ARGS, child, dir, first.url], { stdio: ['ignore', 'pipe', 'inherit'] })
  let committed = 0
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/enqueued (\d+)/g)) committed = Number(m[1])
      if (committed >= 300 && first.all.length > 30) {
        proc.kill('SIGKILL')
        resolve()
      }
    })
    proc.on('exit', () => resolve())
    setTimeout(() => reject(new Error('child did not get going')), 20_000).unref()
  })
  await new Promise((resolve) => proc.once('exit', resolve))
  t.ok(committed >= 300, `child committed ${committed} events before the kill`)
  t.ok(first.received.length >= 30)

  const second = await startReceiver()
  t.teardown(second.close)
  const db = openDatabase(dir)
  const outbox = new SqliteOutbox(db, { targets: [target('crm', second.url)] })
  const delivery = new WebhookDelivery({ outbox, config: FAST })
  delivery.start()
  t.teardown(async () => { await delivery.stop(1000); db.close() })
  await until(() => outbox.depth().crm.pending === 0, 20_000)

  const seqOf = (body: string): number => Number((JSON.parse(body) as { callerid: string }).callerid)
  const firstSeqs = first.received.map((r) => seqOf(r.body))
  const secondSeqs = second.received.map((r) => seqOf(r.body))
  const all = new Set([...firstSeqs, ...secondSeqs])
  const missing = []
  for (let s = 1; s <= committed; s++) if (!all.has(s)) missing.push(s)
  t.same(missing, [], 'every committed event arrived')
  const duplicates = secondSeqs.filter((s) => firstSeqs.includes(s))
  t.ok(duplicates.length <= FAST.concurrency, `duplicates only for in-flight requests (${duplicates.length})`)
  // Per call, the second receiver got the remaining events in order.
  const byCall = new Map<string, number[]>()
  for (const r of second.received) {
    const p = JSON.parse(r.body) as { chid: string, callerid: string }
    byCall.set(p.chid, [...(byCall.get(p.chid) ?? []), Number(p.callerid)])
  }
  t.ok(byCall.size > 0, 'the second receiver got calls to check')
  for (const [chid, seqs] of byCall) t.same(seqs, [...seqs].sort((a, b) => a - b), `${chid} in order`)
})
