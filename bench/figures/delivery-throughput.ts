// Delivery throughput: N call-ended events stored in the durable outbox (SQLite, src/webhooks),
// then delivered by WebhookDelivery with the gateway's default settings (WEBHOOK_CONCURRENCY
// connections) to a receiver in another process. The ceiling: the receiver alone, loaded by
// autocannon with the same number of connections and the same JSON body.
import type { Figure, FigureResult } from '../figure.js'
import { load } from '../load.js'
import { benchTmp } from '../paths.js'
import { startChild, type BenchChild } from '../processes.js'
import type { DeliveryInfo } from '../child/delivery-process.js'
import type { ReceiverInfo } from '../child/receiver-process.js'
import { round } from '../stats.js'

// Raised from 1,000 events/s (met easily: 8,300–8,900 measured).
const TARGET = 4000

/** The body the delivery sends (same fields as delivery-process's events). */
const SAMPLE_BODY = JSON.stringify({
  event: 'incoming', id: '261101120000_5000-1', chid: '261101120000_5000', timestamp: '2026-11-01T12:00:00.000Z',
  callername: 'Jane Caller', callerid: '+15552000000', user: '100', did: 'Sales line', finishtype: 'Ok', transfer: 'false',
  title: 'Incoming call from +15552000000 to 101, 2:15', duration: 135
})

export const deliveryThroughput: Figure = {
  id: 'delivery-throughput',
  title: 'Webhook delivery throughput (durable outbox → local receiver)',
  async run (opts): Promise<FigureResult> {
    const receiver = await startChild<ReceiverInfo>('receiver-process', 'delivery-receiver')
    let delivery: BenchChild<DeliveryInfo> | null = null
    try {
      delivery = await startChild<DeliveryInfo>('delivery-process', 'delivery', { env: { BENCH_RECEIVER_URL: receiver.info.url, BENCH_TMP: benchTmp } })
      const count = opts.quick ? 5000 : 20_000
      const chains = 1000
      const enq = await delivery.call<{ ms: number }>('enqueueOneByOne', { count, chains })
      const sent = await delivery.call<{ ms: number, delivered: number, failures: number }>('deliver', { count, timeoutMs: 300_000 })
      const got = await receiver.call<{ received: number }>('count')
      const eventsPerS = round(sent.delivered / (sent.ms / 1000))
      const connections = delivery.info.concurrency
      const post = { url: receiver.info.url, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: SAMPLE_BODY }
      await load(post, { connections, seconds: 1 })
      const ceiling = await load(post, { connections, seconds: opts.quick ? 3 : 8 })
      return {
        id: this.id,
        title: this.title,
        value: eventsPerS,
        unit: 'events/s',
        summary: `${eventsPerS} events/s (${sent.delivered} of ${count} events on ${chains} calls in ${round(sent.ms)} ms, ${connections} connections); storing them: ${round(count / (enq.ms / 1000))} events/s`,
        ceiling: { what: `the receiver alone, autocannon POSTing the same body over ${connections} connections`, value: ceiling.rps, unit: 'req/s' },
        ratio: round(eventsPerS / ceiling.rps, 3),
        target: { text: `≥ ${TARGET.toLocaleString('en-US')} events/s`, met: eventsPerS >= TARGET && sent.failures === 0 },
        details: {
          events: count,
          chains,
          connections,
          enqueueMs: round(enq.ms),
          deliverMs: round(sent.ms),
          delivered: sent.delivered,
          failures: sent.failures,
          receiverCounted: got.received,
          ceiling
        },
        notes: ['Every delivery is one HTTP request plus one SQLite transaction (attempt row and status), as in production; events are pre-stored, so the figure is the delivery rate alone.']
      }
    } finally {
      await delivery?.stop()
      await receiver.stop()
    }
  }
}
