// The recordings index's SQLite adapter (recordings/recording-index.ts is the port): the tables of
// module "recordings" in the gateway's one file, next to the outbox.
import { legKeyOf, type AddLegResult, type EndedLeg, type FoundRecording, type LegRow, type LegState, type RecordingIndex, type RecordingRow, type RecordingState } from '../recordings/recording-index.js'
import { newRecordingToken, recordingFileName } from '../recordings/recording-links.js'
import { storageHealthOf, type StorageHealth } from '../storage-health.js'
import { toLeg, toRecording, type RawLeg, type RawRecording } from './recording-rows.js'
import { atomically, openDatabase, type SqliteDatabase } from './database.js'
import { migrate, type Migration } from './migrations.js'

export const RECORDINGS_MIGRATIONS: readonly Migration[] = [
  (db) => db.exec(`CREATE TABLE recording_legs (
     leg_key TEXT PRIMARY KEY,
     callid INTEGER NOT NULL,
     chid TEXT NOT NULL,
     legacy_id TEXT NOT NULL,
     dn TEXT NOT NULL,
     participant_id INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER NOT NULL,
     caller_name TEXT,
     ended_event TEXT,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     announced_at INTEGER
   );
   CREATE INDEX recording_legs_state ON recording_legs(state);
   CREATE TABLE recordings (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     leg_key TEXT NOT NULL REFERENCES recording_legs(leg_key),
     source_ref TEXT NOT NULL UNIQUE,
     seq INTEGER NOT NULL,
     file_name TEXT NOT NULL UNIQUE,
     token TEXT NOT NULL UNIQUE,
     wav_path TEXT,
     xapi_id INTEGER,
     recorded_at INTEGER NOT NULL,
     state TEXT NOT NULL,
     error TEXT,
     bytes INTEGER,
     converted_at INTEGER
   );
   CREATE INDEX recordings_leg ON recordings(leg_key);
   CREATE INDEX recordings_state ON recordings(state);
   CREATE INDEX recordings_recorded_at ON recordings(recorded_at);`),
  // A conversation can span several participants (taken back after a blind transfer); the files are
  // matched by these ids, never by time alone.
  (db) => db.exec(`ALTER TABLE recording_legs ADD COLUMN participant_ids TEXT NOT NULL DEFAULT '[]';
   UPDATE recording_legs SET participant_ids = '[' || participant_id || ']' WHERE participant_id > 0;`),
  // Conversions are claimed (claimPending), as on PostgreSQL where replicas share the index.
  (db) => db.exec(`ALTER TABLE recordings ADD COLUMN claimed_by TEXT;
   ALTER TABLE recordings ADD COLUMN claimed_until INTEGER;`)
]

export class SqliteRecordingIndex implements RecordingIndex {
  readonly health: StorageHealth

  /** Adds (migrating) the recordings tables to the gateway's database, usually the outbox's. */
  constructor (readonly db: SqliteDatabase, private readonly consumer = 'local', private readonly now: () => number = Date.now) {
    migrate(db, 'recordings', RECORDINGS_MIGRATIONS)
    this.health = storageHealthOf(db)
  }

  /** Opens `<dataDir>/gateway.db` on its own (tests, the CLI); the gateway shares the outbox's. */
  static open (dataDir: string): SqliteRecordingIndex {
    return new SqliteRecordingIndex(openDatabase(dataDir))
  }

  atomically<T>(fn: () => T): T {
    return atomically(this.db, fn)
  }

  close (): void {
    if (this.db.open) this.db.close()
  }

  /**
   * Records an ended leg to look for. A later end of a leg still waiting (the conversation was taken
   * back after a blind transfer) extends it: its participants, its end and its ended event. A later
   * end of a leg already settled becomes a leg of its own (`late`); an end seen before is a `replay`.
   */
  addLeg (leg: EndedLeg, now = Date.now()): AddLegResult {
    return this.db.transaction((): AddLegResult => {
      const key = legKeyOf(leg)
      const known = this.leg(key)
      if (known === undefined) {
        this.insertLeg(key, leg, now)
        return 'added'
      }
      if (leg.endedAt <= known.endedAt && leg.participantIds.every((id) => known.participantIds.includes(id))) return 'replay'
      if (known.state === 'waiting') {
        const ids = [...new Set([...known.participantIds, ...leg.participantIds])]
        this.db.prepare(`UPDATE recording_legs SET participant_ids = ?, started_at = MIN(started_at, ?), ended_at = MAX(ended_at, ?),
          ended_event = CASE WHEN ? >= ended_at THEN ? ELSE ended_event END, caller_name = COALESCE(?, caller_name) WHERE leg_key = ?`).run(
          JSON.stringify(ids), leg.startedAt, leg.endedAt, leg.endedAt, leg.endedEvent === undefined ? null : JSON.stringify(leg.endedEvent), leg.callerName ?? null, key)
        return 'extended'
      }
      const lateKey = `${key}/${leg.endedAt}`
      if (this.leg(lateKey) !== undefined) return 'replay'
      this.insertLeg(lateKey, leg, now)
      return 'late'
    })()
  }

  private insertLeg (key: string, leg: EndedLeg, now: number): void {
    this.db.prepare(`INSERT INTO recording_legs
      (leg_key, callid, chid, legacy_id, dn, participant_id, participant_ids, started_at, ended_at, caller_name, ended_event, state, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?)`).run(
      key, leg.callid, leg.chid, leg.legacyId, leg.dn, leg.participantIds[0] ?? 0, JSON.stringify(leg.participantIds), leg.startedAt, leg.endedAt,
      leg.callerName ?? null, leg.endedEvent === undefined ? null : JSON.stringify(leg.endedEvent), now)
  }

  legsIn (state: LegState): LegRow[] {
    return (this.db.prepare('SELECT * FROM recording_legs WHERE state = ? ORDER BY ended_at').all(state) as RawLeg[]).map(toLeg)
  }

  leg (legKey: string): LegRow | undefined {
    const r = this.db.prepare('SELECT * FROM recording_legs WHERE leg_key = ?').get(legKey) as RawLeg | undefined
    return r === undefined ? undefined : toLeg(r)
  }

  isClaimed (sourceRef: string): boolean {
    return this.db.prepare('SELECT 1 FROM recordings WHERE source_ref = ?').get(sourceRef) !== undefined
  }

  claimedRefs (since: number): Set<string> {
    return new Set(this.db.prepare('SELECT source_ref FROM recordings WHERE recorded_at >= ?').pluck().all(since) as string[])
  }

  claimPending (limit: number, leaseMs: number): RecordingRow[] {
    return this.db.transaction(() => {
      const now = this.now()
      const rows = this.db.prepare("SELECT * FROM recordings WHERE state = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY id LIMIT ?").all(now, limit) as RawRecording[]
      const claim = this.db.prepare('UPDATE recordings SET claimed_by = ?, claimed_until = ? WHERE id = ?')
      for (const r of rows) claim.run(this.consumer, now + leaseMs, r.id)
      return rows.map(toRecording)
    })()
  }

  renewClaims (ids: readonly number[], leaseMs: number): void {
    const renew = this.db.prepare("UPDATE recordings SET claimed_until = ? WHERE id = ? AND claimed_by = ? AND state = 'pending'")
    this.db.transaction(() => { for (const id of ids) renew.run(this.now() + leaseMs, id, this.consumer) })()
  }

  releaseClaims (ids?: readonly number[], delayMs = 0): void {
    const until = delayMs > 0 ? this.now() + delayMs : null
    if (ids === undefined) {
      this.db.prepare("UPDATE recordings SET claimed_until = ? WHERE claimed_by = ? AND state = 'pending'").run(until, this.consumer)
      return
    }
    const release = this.db.prepare("UPDATE recordings SET claimed_until = ? WHERE id = ? AND claimed_by = ? AND state = 'pending'")
    this.db.transaction(() => { for (const id of ids) release.run(until, id, this.consumer) })()
  }

  announce (legKey: string, enqueue: () => void, now = Date.now()): boolean {
    return this.atomically(() => {
      if (this.leg(legKey)?.state !== 'converting') return false
      enqueue()
      this.setLegState(legKey, 'announced', now)
      return true
    })
  }

  /**
   * The leg's files are all there: one row per file, numbered after the files the same legacy id
   * already has (a leg that resumed under the same id keeps counting), each with its own token.
   * No files: the leg was not recorded.
   */
  settleLeg (legKey: string, files: readonly FoundRecording[]): RecordingRow[] {
    return this.db.transaction(() => {
      const leg = this.leg(legKey)
      if (leg === undefined || leg.state !== 'waiting') return []
      const fresh = files.filter((f) => !this.isClaimed(f.sourceRef))
      if (fresh.length === 0) {
        this.setLegState(legKey, 'unrecorded')
        return []
      }
      const prefix = `${leg.legacyId}-`
      const taken = this.db.prepare("SELECT COUNT(*) AS n FROM recordings WHERE file_name LIKE ? ESCAPE '\\'")
        .get(`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) as { n: number }
      const insert = this.db.prepare(`INSERT INTO recordings
        (leg_key, source_ref, seq, file_name, token, wav_path, xapi_id, recorded_at, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`)
      fresh.forEach((f, i) => {
        insert.run(legKey, f.sourceRef, i + 1, recordingFileName(leg.legacyId, taken.n + i + 1), newRecordingToken(), f.wavPath, f.xapiId, f.recordedAt)
      })
      this.setLegState(legKey, 'converting')
      return this.recordingsOf(legKey)
    })()
  }

  setLegState (legKey: string, state: LegState, now = Date.now()): void {
    this.db.prepare('UPDATE recording_legs SET state = ?, announced_at = CASE WHEN ? = \'announced\' THEN ? ELSE announced_at END WHERE leg_key = ?')
      .run(state, state, now, legKey)
  }

  recordingsOf (legKey: string): RecordingRow[] {
    return (this.db.prepare('SELECT * FROM recordings WHERE leg_key = ? ORDER BY seq').all(legKey) as RawRecording[]).map(toRecording)
  }

  /** Counts by state, the bytes of converted MP3s and the legs held unidentified (for metrics). */
  stats (): { pending: number, done: number, failed: number, bytes: number, held: number } {
    const r = this.db.prepare(`SELECT
      SUM(state = 'pending') AS pending, SUM(state = 'done') AS done, SUM(state = 'failed') AS failed,
      COALESCE(SUM(CASE WHEN state = 'done' THEN bytes END), 0) AS bytes FROM recordings`).get() as Record<string, number | null>
    const held = (this.db.prepare("SELECT COUNT(*) FROM recording_legs WHERE state = 'held'").pluck().get() as number)
    return { pending: r.pending ?? 0, done: r.done ?? 0, failed: r.failed ?? 0, bytes: r.bytes ?? 0, held }
  }

  recordingsIn (state: RecordingState): RecordingRow[] {
    return (this.db.prepare('SELECT * FROM recordings WHERE state = ? ORDER BY id').all(state) as RawRecording[]).map(toRecording)
  }

  setWavPath (id: number, wavPath: string): void {
    this.db.prepare('UPDATE recordings SET wav_path = ? WHERE id = ?').run(wavPath, id)
  }

  markConverted (id: number, bytes: number, now = Date.now()): void {
    this.db.prepare("UPDATE recordings SET state = 'done', bytes = ?, error = NULL, converted_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?").run(bytes, now, id)
  }

  markFailed (id: number, reason: string, now = Date.now()): void {
    this.db.prepare("UPDATE recordings SET state = 'failed', error = ?, converted_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?").run(reason.slice(0, 1000), now, id)
  }

  retryFailed (): number {
    return this.db.transaction(() => {
      const legs = "SELECT leg_key FROM recording_legs WHERE state = 'failed'"
      const n = this.db.prepare(`UPDATE recordings SET state = 'pending', claimed_by = NULL, claimed_until = NULL WHERE state = 'failed' AND leg_key IN (${legs})`).run().changes
      this.db.prepare(`UPDATE recording_legs SET state = 'converting' WHERE state = 'failed' AND leg_key IN (SELECT leg_key FROM recordings WHERE state = 'pending')`).run()
      return n
    })()
  }

  /** The converted MP3 made from XAPI recording `xapiId` (`recordings.list.get` links to it). */
  byXapiId (xapiId: number): RecordingRow | undefined {
    const r = this.db.prepare("SELECT * FROM recordings WHERE xapi_id = ? AND state = 'done'").get(xapiId) as RawRecording | undefined
    return r === undefined ? undefined : toRecording(r)
  }

  /** A served file: the token and the name must both match a converted recording. */
  byToken (token: string, fileName: string): RecordingRow | undefined {
    const r = this.db.prepare("SELECT * FROM recordings WHERE token = ? AND file_name = ? AND state = 'done'").get(token, fileName) as RawRecording | undefined
    return r === undefined ? undefined : toRecording(r)
  }

  latest (limit: number): RecordingRow[] {
    return (this.db.prepare("SELECT * FROM recordings WHERE state = 'done' ORDER BY recorded_at DESC, id DESC LIMIT ?").all(limit) as RawRecording[]).map(toRecording)
  }

  byFileName (fileName: string): RecordingRow | undefined {
    const r = this.db.prepare("SELECT * FROM recordings WHERE file_name = ? AND state = 'done'").get(fileName) as RawRecording | undefined
    return r === undefined ? undefined : toRecording(r)
  }

  /** Recordings (any state except pending) recorded before `cutoff`, oldest first, with when their leg was announced. */
  recordedBefore (cutoff: number): Array<RecordingRow & { announcedAt: number | null }> {
    const rows = this.db.prepare(`SELECT r.*, l.announced_at FROM recordings r JOIN recording_legs l ON l.leg_key = r.leg_key
      WHERE r.recorded_at < ? AND r.state != 'pending' ORDER BY r.recorded_at`).all(cutoff) as Array<RawRecording & { announced_at: number | null }>
    return rows.map((r) => ({ ...toRecording(r), announcedAt: r.announced_at }))
  }

  deleteRecording (id: number): boolean {
    return this.db.prepare('DELETE FROM recordings WHERE id = ?').run(id).changes === 1
  }

  /** Legs that ended before `cutoff` and have no recording row left. */
  deleteEmptyLegsBefore (cutoff: number): number {
    return this.db.prepare(`DELETE FROM recording_legs WHERE ended_at < ? AND state != 'waiting'
      AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.leg_key = recording_legs.leg_key)`).run(cutoff).changes
  }

  /** Every file name the index knows (retention keeps these, deletes strays). */
  fileNames (): Set<string> {
    return new Set((this.db.prepare('SELECT file_name FROM recordings').pluck().all() as string[]))
  }
}
