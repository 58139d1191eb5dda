// Rows of the recordings index as both adapters read them (sqlite-recording-index.ts,
// pg/pg-recording-index.ts): the columns are named after the port's fields; SQLite keeps the JSON
// columns as text, PostgreSQL as jsonb (already parsed).
import type { LegRow, RecordingRow } from '../recordings/recording-index.js'

export type RawLeg = Record<string, unknown> & { ended_event: unknown, participant_ids: unknown }
export type RawRecording = Record<string, unknown>

/** `snake_case` columns → `camelCase` fields. */
function camel (row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v]))
}

const json = (v: unknown): unknown => typeof v === 'string' ? JSON.parse(v) : v

export function toLeg (r: RawLeg): LegRow {
  const { createdAt: _c, announcedAt: _a, participantId: _p, ...leg } = camel(r)
  return {
    ...leg,
    participantIds: json(r.participant_ids) as number[],
    endedEvent: r.ended_event === null ? null : json(r.ended_event) as Record<string, unknown>
  } as unknown as LegRow
}

export function toRecording (r: RawRecording): RecordingRow {
  const { convertedAt: _c, announcedAt: _a, claimedBy: _b, claimedUntil: _u, ...rec } = camel(r)
  return rec as unknown as RecordingRow
}
