// The per-key request windows every replica counts into (plugins/app/shared-window-counter.ts): one
// row per key and window, added to in one statement per flush; windows older than a day are removed
// now and then.
import type pg from 'pg'
import type { KeyWindowStore } from '../../plugins/app/shared-window-counter.js'

const KEEP_MS = 86_400_000

export class PgKeyWindows implements KeyWindowStore {
  private lastPrune = 0

  constructor (private readonly pool: pg.Pool) {}

  async add (windowStart: number, counts: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number>> {
    const keys = [...counts.keys()]
    const r = await this.pool.query<{ key_id: string, count: string }>(
      `INSERT INTO key_request_windows (key_id, window_start, count)
       SELECT k, $2, n FROM unnest($1::text[], $3::bigint[]) AS x(k, n)
       ON CONFLICT (key_id, window_start) DO UPDATE SET count = key_request_windows.count + EXCLUDED.count
       RETURNING key_id, count`, [keys, windowStart, keys.map((k) => counts.get(k) ?? 0)])
    if (windowStart - this.lastPrune > KEEP_MS / 24) {
      this.lastPrune = windowStart
      await this.pool.query('DELETE FROM key_request_windows WHERE window_start < $1', [windowStart - KEEP_MS])
    }
    return new Map(r.rows.map((row) => [row.key_id, Number(row.count)]))
  }
}
