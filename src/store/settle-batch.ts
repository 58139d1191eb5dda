// Group commit of delivery outcomes: the delivery workers settle one delivery each, many at once,
// and every settle that arrives while a write is in flight (or, for a store that writes at once,
// within the same turn of the event loop) joins the next write. A delivery is in one batch at a
// time. A settle resolves only once its batch is committed (or with false when the database could
// not be written, as settle() does), so a chain's next event is still sent only after the previous
// outcome is on disk: at-least-once and per-call order are unchanged, the commits are per batch
// instead of per delivery. PostgreSQL (pg-outbox-store.ts): a few writes in flight, each on its own
// connection; SQLite (sqlite-outbox.ts): one synchronous transaction per batch after `gather`.

interface Waiting<Item> { item: Item, resolve: (ok: boolean) => void, reject: (err: unknown) => void }

export interface SettleBatchOptions {
  /** The largest batch. */
  max?: number
  /** Writes in flight at once. */
  parallel?: number
  /** Waited before a batch is taken, so that settles arriving meanwhile join it (a synchronous store's only chance to group them). */
  gather?: () => Promise<void>
}

/** Waits for the rest of the current turn of the event loop (the responses read in the same poll phase). */
export const sameTurn = async (): Promise<void> => { await new Promise<void>((resolve) => { setImmediate(resolve) }) }

export class SettleBatch<Item> {
  private waiting: Array<Waiting<Item>> = []
  private running = 0
  private readonly max: number
  private readonly parallel: number

  /** `write`: records a batch, false when the database could not be written. */
  constructor (private readonly write: (items: readonly Item[]) => boolean | Promise<boolean>, private readonly opts: SettleBatchOptions = {}) {
    this.max = opts.max ?? 500
    this.parallel = opts.parallel ?? 1
  }

  /** Settles resolved so far are written; this one joins the next batch. */
  async settle (item: Item): Promise<boolean> {
    return await new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      if (this.running < this.parallel) void this.run()
    })
  }

  private async run (): Promise<void> {
    this.running++
    try {
      while (this.waiting.length > 0) {
        if (this.opts.gather !== undefined) await this.opts.gather()
        await this.writeBatch(this.waiting.splice(0, this.max))
      }
    } finally {
      this.running--
    }
  }

  /**
   * Writes a batch; one that throws (not a database that cannot be written: a bug, or a row it refuses)
   * is written again one by one, so that only the settle that caused it fails, not the deliveries that
   * happened to share its transaction (they would be sent again).
   */
  private async writeBatch (batch: Array<Waiting<Item>>): Promise<void> {
    try {
      const ok = await this.write(batch.map((w) => w.item))
      for (const w of batch) w.resolve(ok)
    } catch (err) {
      if (batch.length === 1) { batch[0].reject(err); return }
      for (const w of batch) await this.writeBatch([w])
    }
  }
}
