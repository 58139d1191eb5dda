// The makecall hand-off on PostgreSQL (replicas/call-id-requests.ts CallIdChannel): a standby inserts
// a row (PBX id, 3CX call id, time) and NOTIFYs `call_id_requests` with the PBX id; the holder, which
// LISTENs there, reserves the ids in its call model, writes them into the row and NOTIFYs
// `call_id_answers` with `<PBX id>:<row id>` (the PBX id keeps tenants' schemas apart: notifications
// are per database). Both sides also poll, in case a notification was missed while their listening
// connection was re-established. The standby deletes its row once answered or given up.
import type { CallIdChannel, CallIds } from '../../replicas/call-id-requests.js'
import { inTransaction, type PgStore } from './pg-pool.js'
import { listenAndPoll } from './pg-listen.js'

interface Pending { resolve: () => void }

export class PgCallIds implements CallIdChannel {
  private readonly waiting = new Map<string, Pending>()
  private stopAnswers: Promise<() => Promise<void>> | null = null

  constructor (private readonly store: PgStore, private readonly pbxId: string, private readonly pollMs = 500) {}

  async request (callid: number, at: number, waitMs: number): Promise<CallIds | null> {
    this.stopAnswers ??= listenAndPoll(this.store.pool, 'call_id_answers', this.pollMs,
      (payload) => { this.waiting.get(payload ?? '')?.resolve() },
      () => { for (const p of this.waiting.values()) p.resolve() })
    await this.stopAnswers
    const id = await inTransaction(this.store.pool, async (c) => {
      const r = await c.query<{ id: string }>('INSERT INTO call_id_requests (pbx_id, callid, at) VALUES ($1, $2, $3) RETURNING id', [this.pbxId, callid, at])
      await c.query("SELECT pg_notify('call_id_requests', $1)", [this.pbxId])
      return r.rows[0].id
    })
    const key = `${this.pbxId}:${id}`
    const deadline = Date.now() + waitMs
    try {
      for (;;) {
        const answered = await this.answer(id)
        if (answered !== null) return answered
        const left = deadline - Date.now()
        if (left <= 0) return null
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          this.waiting.set(key, { resolve: () => { clearTimeout(timer); resolve() } })
        })
        this.waiting.delete(key)
      }
    } finally {
      this.waiting.delete(key)
      await this.store.pool.query('DELETE FROM call_id_requests WHERE id = $1', [id]).catch(() => {})
    }
  }

  private async answer (id: string): Promise<CallIds | null> {
    const r = (await this.store.pool.query<{ chid: string | null, legacy_id: string | null }>('SELECT chid, legacy_id FROM call_id_requests WHERE id = $1', [id])).rows[0]
    return r?.chid != null && r.legacy_id != null ? { chid: r.chid, legacyId: r.legacy_id } : null
  }

  async serve (reserve: (callid: number, at: number) => CallIds): Promise<() => Promise<void>> {
    let running: Promise<void> | null = null
    let again = false
    const drain = async (): Promise<void> => {
      if (running !== null) { again = true; return await running }
      running = (async () => {
        do {
          again = false
          const rows = (await this.store.pool.query<{ id: string, callid: string, at: string }>(
            'SELECT id, callid, at FROM call_id_requests WHERE pbx_id = $1 AND chid IS NULL ORDER BY id', [this.pbxId])).rows
          for (const r of rows) {
            const ids = reserve(Number(r.callid), Number(r.at))
            await inTransaction(this.store.pool, async (c) => {
              await c.query('UPDATE call_id_requests SET chid = $2, legacy_id = $3 WHERE id = $1', [r.id, ids.chid, ids.legacyId])
              await c.query("SELECT pg_notify('call_id_answers', $1)", [`${this.pbxId}:${r.id}`])
            })
          }
        } while (again)
      })().finally(() => { running = null })
      return await running
    }
    // A standby that died while waiting leaves its row: gone after a minute.
    const prune = async (): Promise<void> => {
      await this.store.pool.query("DELETE FROM call_id_requests WHERE pbx_id = $1 AND created_at < now() - interval '1 minute'", [this.pbxId])
    }
    const stop = await listenAndPoll(this.store.pool, 'call_id_requests', this.pollMs,
      (pbxId) => { if (pbxId === this.pbxId) void drain().catch(() => {}) },
      () => { void prune().then(drain).catch(() => {}) })
    // Listening first: a request made before it would wait for the poll.
    await drain().catch(() => {})
    return stop
  }

  async close (): Promise<void> {
    const stop = this.stopAnswers
    this.stopAnswers = null
    for (const p of this.waiting.values()) p.resolve()
    if (stop !== null) await (await stop)()
  }
}
