// The recordings index on PostgreSQL (recordings/recording-index.ts is the port; the SQLite adapter is
// store/sqlite-recording-index.ts), shared by every replica on the database. A pending conversion is
// claimed like an outbox delivery (FOR UPDATE SKIP LOCKED, a lease on the database's clock), so it
// runs on one replica; a dead replica's claims run out and another takes them. Settling a leg, its
// announcement and each deletion are conditional updates: whichever replica comes first does them.
import type pg from 'pg'
import { legKeyOf, type AddLegResult, type EndedLeg, type FoundRecording, type LegRow, type LegState, type RecordingIndex, type RecordingRow, type RecordingState } from '../../recordings/recording-index.js'
import { newRecordingToken, recordingFileName } from '../../recordings/recording-links.js'
import { isPgStorageError, type StorageHealth } from '../../storage-health.js'
import { toLeg, toRecording, type RawLeg, type RawRecording } from '../recording-rows.js'
import { inTransaction, type PgStore } from './pg-pool.js'

type Stats = ReturnType<RecordingIndex['stats']>
const STATS_EVERY_MS = 1000

export class PgRecordingIndex implements RecordingIndex {
  readonly health: StorageHealth
  private readonly pool: pg.Pool
  private snapshot: Stats = { pending: 0, done: 0, failed: 0, bytes: 0, held: 0 }
  private statsAt = 0

  /**
   * @param consumer this replica's id: its claims carry it.
   * @param eventsWritten resolves once the events handed to the outbox so far are committed
   *   (PgOutboxStore.written()): a leg is marked announced only after its event.
   */
  constructor (store: PgStore, private readonly consumer: string, private readonly eventsWritten?: () => Promise<void>) {
    this.health = store.health
    this.pool = store.pool
  }

  /** Runs a statement; a lost database is reported to storage health and rethrown. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (isPgStorageError(err)) this.health.failed('recordings index', err)
      throw err
    }
  }

  private async rows (sql: string, params: unknown[] = []): Promise<RecordingRow[]> {
    return await this.run(async () => (await this.pool.query<RawRecording>(sql, params)).rows.map(toRecording))
  }

  private async one (sql: string, params: unknown[]): Promise<RecordingRow | undefined> {
    return (await this.rows(sql, params))[0]
  }

  async addLeg (leg: EndedLeg, now = Date.now()): Promise<AddLegResult> {
    return await this.run(async () => await inTransaction(this.pool, async (c) => {
      const key = legKeyOf(leg)
      const insert = async (k: string): Promise<boolean> => ((await c.query(`INSERT INTO recording_legs
        (leg_key, callid, chid, legacy_id, dn, participant_ids, started_at, ended_at, caller_name, ended_event, state, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'waiting', $11) ON CONFLICT (leg_key) DO NOTHING`,
      [k, leg.callid, leg.chid, leg.legacyId, leg.dn, JSON.stringify(leg.participantIds), leg.startedAt, leg.endedAt,
        leg.callerName ?? null, leg.endedEvent === undefined ? null : JSON.stringify(leg.endedEvent), now])).rowCount ?? 0) === 1
      const raw = (await c.query<RawLeg>('SELECT * FROM recording_legs WHERE leg_key = $1 FOR UPDATE', [key])).rows[0]
      if (raw === undefined) return await insert(key) ? 'added' : 'replay'
      const known = toLeg(raw)
      if (leg.endedAt <= known.endedAt && leg.participantIds.every((id) => known.participantIds.includes(id))) return 'replay'
      if (known.state === 'waiting') {
        const ids = [...new Set([...known.participantIds, ...leg.participantIds])]
        await c.query(`UPDATE recording_legs SET participant_ids = $1, started_at = LEAST(started_at, $2), ended_at = GREATEST(ended_at, $3),
          ended_event = CASE WHEN $3 >= ended_at THEN $4::jsonb ELSE ended_event END, caller_name = COALESCE($5, caller_name) WHERE leg_key = $6`,
        [JSON.stringify(ids), leg.startedAt, leg.endedAt, leg.endedEvent === undefined ? null : JSON.stringify(leg.endedEvent), leg.callerName ?? null, key])
        return 'extended'
      }
      return await insert(`${key}/${leg.endedAt}`) ? 'late' : 'replay'
    }))
  }

  async legsIn (state: LegState): Promise<LegRow[]> {
    return await this.run(async () => (await this.pool.query<RawLeg>('SELECT * FROM recording_legs WHERE state = $1 ORDER BY ended_at', [state])).rows.map(toLeg))
  }

  async leg (legKey: string): Promise<LegRow | undefined> {
    const r = await this.run(async () => (await this.pool.query<RawLeg>('SELECT * FROM recording_legs WHERE leg_key = $1', [legKey])).rows[0])
    return r === undefined ? undefined : toLeg(r)
  }

  async claimedRefs (since: number): Promise<Set<string>> {
    return new Set((await this.rows('SELECT source_ref FROM recordings WHERE recorded_at >= $1', [Math.floor(since)])).map((r) => r.sourceRef))
  }

  async settleLeg (legKey: string, files: readonly FoundRecording[]): Promise<RecordingRow[]> {
    return await this.run(async () => await inTransaction(this.pool, async (c) => {
      // The leg's row lock: a second replica settling the same leg waits, then finds it settled.
      const raw = (await c.query<RawLeg>('SELECT * FROM recording_legs WHERE leg_key = $1 FOR UPDATE', [legKey])).rows[0]
      if (raw === undefined || raw.state !== 'waiting') return []
      const leg = toLeg(raw)
      const claimed = new Set((await c.query<{ source_ref: string }>('SELECT source_ref FROM recordings WHERE source_ref = ANY($1)', [files.map((f) => f.sourceRef)])).rows.map((r) => r.source_ref))
      const fresh = files.filter((f) => !claimed.has(f.sourceRef))
      if (fresh.length === 0) {
        await c.query("UPDATE recording_legs SET state = 'unrecorded' WHERE leg_key = $1", [legKey])
        return []
      }
      const prefix = `${leg.legacyId}-`.replace(/[\\%_]/g, (ch) => `\\${ch}`)
      const taken = Number((await c.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM recordings WHERE file_name LIKE $1', [`${prefix}%`])).rows[0].n)
      for (const [i, f] of fresh.entries()) {
        await c.query(`INSERT INTO recordings (leg_key, source_ref, seq, file_name, token, wav_path, xapi_id, recorded_at, state)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')`,
        // A file's time may be its mtime, fractional: the column is whole ms.
        [legKey, f.sourceRef, i + 1, recordingFileName(leg.legacyId, taken + i + 1), newRecordingToken(), f.wavPath, f.xapiId, Math.round(f.recordedAt)])
      }
      await c.query("UPDATE recording_legs SET state = 'converting' WHERE leg_key = $1", [legKey])
      return (await c.query<RawRecording>('SELECT * FROM recordings WHERE leg_key = $1 ORDER BY seq', [legKey])).rows.map(toRecording)
    }))
  }

  async setLegState (legKey: string, state: LegState, now = Date.now()): Promise<void> {
    await this.run(async () => await this.pool.query('UPDATE recording_legs SET state = $1, announced_at = CASE WHEN $1 = \'announced\' THEN $2 ELSE announced_at END WHERE leg_key = $3', [state, now, legKey]))
  }

  async recordingsOf (legKey: string): Promise<RecordingRow[]> {
    return await this.rows('SELECT * FROM recordings WHERE leg_key = $1 ORDER BY seq', [legKey])
  }

  /** The last counts read (metrics read synchronously); a read older than a second starts a new one. */
  stats (): Stats {
    if (Date.now() - this.statsAt >= STATS_EVERY_MS) {
      this.statsAt = Date.now()
      this.refreshStats().catch(() => {})
    }
    return this.snapshot
  }

  async refreshStats (): Promise<Stats> {
    const r = (await this.run(async () => await this.pool.query<Record<string, number>>(`SELECT
      COUNT(*) FILTER (WHERE state = 'pending')::int AS pending, COUNT(*) FILTER (WHERE state = 'done')::int AS done,
      COUNT(*) FILTER (WHERE state = 'failed')::int AS failed, COALESCE(SUM(bytes) FILTER (WHERE state = 'done'), 0)::bigint AS bytes,
      (SELECT COUNT(*)::int FROM recording_legs WHERE state = 'held') AS held FROM recordings`))).rows[0]
    this.snapshot = { pending: r.pending, done: r.done, failed: r.failed, bytes: Number(r.bytes), held: r.held }
    return this.snapshot
  }

  async recordingsIn (state: RecordingState): Promise<RecordingRow[]> {
    return await this.rows('SELECT * FROM recordings WHERE state = $1 ORDER BY id', [state])
  }

  async claimPending (limit: number, leaseMs: number): Promise<RecordingRow[]> {
    return await this.rows(`UPDATE recordings SET claimed_by = $1, claimed_until = now() + $3 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM recordings WHERE state = 'pending' AND (claimed_until IS NULL OR claimed_until <= now())
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING *`, [this.consumer, limit, leaseMs])
  }

  async renewClaims (ids: readonly number[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return
    await this.run(async () => await this.pool.query(`UPDATE recordings SET claimed_until = now() + $3 * interval '1 millisecond'
      WHERE id = ANY($1) AND claimed_by = $2 AND state = 'pending'`, [ids, this.consumer, leaseMs]))
  }

  async releaseClaims (ids?: readonly number[], delayMs = 0): Promise<void> {
    await this.run(async () => await this.pool.query(`UPDATE recordings
      SET claimed_until = CASE WHEN $3 > 0 THEN now() + $3 * interval '1 millisecond' END
      WHERE claimed_by = $1 AND state = 'pending' AND ($2::bigint[] IS NULL OR id = ANY($2))`, [this.consumer, ids ?? null, delayMs]))
  }

  async setWavPath (id: number, wavPath: string): Promise<void> {
    await this.run(async () => await this.pool.query('UPDATE recordings SET wav_path = $1 WHERE id = $2', [wavPath, id]))
  }

  async markConverted (id: number, bytes: number, now = Date.now()): Promise<void> {
    await this.run(async () => await this.pool.query(`UPDATE recordings SET state = 'done', bytes = $1, error = NULL, converted_at = $2,
      claimed_by = NULL, claimed_until = NULL WHERE id = $3`, [bytes, now, id]))
  }

  async markFailed (id: number, reason: string, now = Date.now()): Promise<void> {
    await this.run(async () => await this.pool.query(`UPDATE recordings SET state = 'failed', error = $1, converted_at = $2,
      claimed_by = NULL, claimed_until = NULL WHERE id = $3`, [reason.slice(0, 1000), now, id]))
  }

  /** One statement: another replica's restart doing the same at once changes nothing twice. */
  async retryFailed (): Promise<number> {
    return await this.run(async () => {
      const r = await this.pool.query(`WITH legs AS (UPDATE recording_legs SET state = 'converting' WHERE state = 'failed'
          AND leg_key IN (SELECT leg_key FROM recordings WHERE state = 'failed') RETURNING leg_key)
        UPDATE recordings SET state = 'pending', claimed_by = NULL, claimed_until = NULL
        WHERE state = 'failed' AND leg_key IN (SELECT leg_key FROM legs)`)
      return r.rowCount ?? 0
    })
  }

  /**
   * The leg's row lock decides which replica announces (another one waits, then finds it announced).
   * The outbox is write-behind on other connections, so the event cannot share this commit: it is
   * committed first, so a crash in between announces the leg again (at-least-once), never loses it.
   */
  async announce (legKey: string, enqueue: () => void, now = Date.now()): Promise<boolean> {
    return await this.run(async () => await inTransaction(this.pool, async (c) => {
      if ((await c.query("SELECT 1 FROM recording_legs WHERE leg_key = $1 AND state = 'converting' FOR UPDATE", [legKey])).rowCount !== 1) return false
      enqueue()
      await this.eventsWritten?.()
      await c.query("UPDATE recording_legs SET state = 'announced', announced_at = $1 WHERE leg_key = $2", [now, legKey])
      return true
    }))
  }

  async byXapiId (xapiId: number): Promise<RecordingRow | undefined> {
    return await this.one("SELECT * FROM recordings WHERE xapi_id = $1 AND state = 'done'", [xapiId])
  }

  async byToken (token: string, fileName: string): Promise<RecordingRow | undefined> {
    return await this.one("SELECT * FROM recordings WHERE token = $1 AND file_name = $2 AND state = 'done'", [token, fileName])
  }

  async byFileName (fileName: string): Promise<RecordingRow | undefined> {
    return await this.one("SELECT * FROM recordings WHERE file_name = $1 AND state = 'done'", [fileName])
  }

  async latest (limit: number): Promise<RecordingRow[]> {
    return await this.rows("SELECT * FROM recordings WHERE state = 'done' ORDER BY recorded_at DESC, id DESC LIMIT $1", [limit])
  }

  async recordedBefore (cutoff: number): Promise<Array<RecordingRow & { announcedAt: number | null }>> {
    const rows = await this.run(async () => (await this.pool.query<RawRecording & { announced_at: number | null }>(`SELECT r.*, l.announced_at
      FROM recordings r JOIN recording_legs l ON l.leg_key = r.leg_key WHERE r.recorded_at < $1 AND r.state != 'pending' ORDER BY r.recorded_at`, [cutoff])).rows)
    return rows.map((r) => ({ ...toRecording(r), announcedAt: r.announced_at }))
  }

  async deleteRecording (id: number): Promise<boolean> {
    return await this.run(async () => (await this.pool.query('DELETE FROM recordings WHERE id = $1', [id])).rowCount === 1)
  }

  async deleteEmptyLegsBefore (cutoff: number): Promise<number> {
    return await this.run(async () => (await this.pool.query(`DELETE FROM recording_legs WHERE ended_at < $1 AND state != 'waiting'
      AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.leg_key = recording_legs.leg_key)`, [cutoff])).rowCount ?? 0)
  }

  async fileNames (): Promise<Set<string>> {
    return new Set((await this.rows('SELECT file_name FROM recordings')).map((r) => r.fileName))
  }

  /** The pool is the gateway's (closed by services.stop()). */
  close (): void {}
}
