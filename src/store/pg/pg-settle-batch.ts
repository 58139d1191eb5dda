// Group commit of delivery outcomes on PostgreSQL: the delivery workers settle one delivery each,
// many at once; a few writes are in flight at a time (each on its own connection: their commits'
// disk flushes overlap) and every settle that arrives meanwhile joins the next one
// (PgOutbox.settleMany: one statement for the batch). A delivery is in one batch at a time. A settle resolves only once its
// batch is committed (or with false when the database could not be written, as settle() does), so
// a chain's next event is still sent only after the previous outcome is on disk: at-least-once and
// per-call order are unchanged, the round trips are per batch instead of per delivery.
import type { SettleItem } from './pg-outbox.js'

interface Waiting { item: SettleItem, resolve: (ok: boolean) => void, reject: (err: unknown) => void }

export class SettleBatch {
  private waiting: Waiting[] = []
  private running = 0

  /** `write`: records a batch, false when the database could not be written; `max`: the largest batch; `parallel`: writes in flight. */
  constructor (private readonly write: (items: readonly SettleItem[]) => Promise<boolean>, private readonly max = 500, private readonly parallel = 1) {}

  /** Settles resolved so far are written; this one joins the next batch. */
  async settle (item: SettleItem): Promise<boolean> {
    return await new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      if (this.running < this.parallel) void this.run()
    })
  }

  private async run (): Promise<void> {
    this.running++
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.max)
        try {
          const ok = await this.write(batch.map((w) => w.item))
          for (const w of batch) w.resolve(ok)
        } catch (err) {
          for (const w of batch) w.reject(err)
        }
      }
    } finally {
      this.running--
    }
  }
}
