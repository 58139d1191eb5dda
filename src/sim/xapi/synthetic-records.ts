// Deterministic synthetic call records for tests and benchmarks (e.g. 100,000 history rows for the
// export benchmark): feed them to `injectCallRecords(ctx, …)`. Inbound queue calls with 3 segments
// each (caller → queue, queue → agent, caller ↔ agent); every `abandonEvery`-th call is abandoned.
import type { SimCallRecord, SimParty, SimSegment } from '../sim-types.js'

export interface SyntheticOptions {
  /** Start of the first call. */
  from: Date
  /** Gap between call starts (ms). Default 60 s. */
  spacingMs?: number
  /** First callid; default 900000 (clear of the engine's ids). */
  firstCallId?: number
  abandonEvery?: number
  /** Agents answering in turn; default 101, 102, 103. */
  agents?: string[]
  queue?: string
}

const party = (dn: string, kind: SimParty['kind'], displayName: string, callerNumber: string, participantId: number): SimParty =>
  ({ dn, kind, displayName, callerNumber, participantId })

export function syntheticCallRecords (count: number, opts: SyntheticOptions): SimCallRecord[] {
  const spacing = opts.spacingMs ?? 60_000
  const firstId = opts.firstCallId ?? 900_000
  const agents = opts.agents ?? ['101', '102', '103']
  const queue = opts.queue ?? '800'
  const abandonEvery = opts.abandonEvery ?? 10
  const records: SimCallRecord[] = []
  let segmentId = firstId * 4
  for (let i = 0; i < count; i++) {
    const callid = firstId + i
    const start = new Date(opts.from.getTime() + i * spacing)
    const caller = `+1555700${String(i % 10000).padStart(4, '0')}`
    const agent = agents[i % agents.length]
    const abandoned = abandonEvery > 0 && i % abandonEvery === abandonEvery - 1
    const waitMs = 5000 + (i % 7) * 1000
    const talkMs = abandoned ? 0 : 20_000 + (i % 13) * 5000
    const answeredAt = abandoned ? null : new Date(start.getTime() + waitMs)
    const end = new Date(start.getTime() + waitMs + talkMs)
    const trunk = party('10000', 'externalline', caller, caller, 1)
    const q = party(queue, 'queue', 'Sales', queue, 2)
    const a = party(agent, 'extension', `Agent ${agent}`, agent, 3)
    const seg = (src: SimParty, dst: SimParty, s: Date, e: Date, answered: boolean, action: string): SimSegment => ({
      segmentId: segmentId++, callid, startedAt: s, endedAt: e, answered, talkMs: answered ? e.getTime() - s.getTime() : 0, src, dst, action, recordingIds: []
    })
    const ringEnd = new Date(start.getTime() + waitMs)
    const segments = abandoned
      ? [seg(trunk, q, start, ringEnd, false, 'abandoned'), seg(q, a, start, ringEnd, false, 'missed'), seg(trunk, a, ringEnd, ringEnd, false, 'abandoned')]
      : [seg(trunk, q, start, ringEnd, false, 'queue'), seg(q, a, start, ringEnd, false, 'answered'), seg(trunk, a, ringEnd, end, true, 'answered')]
    records.push({
      callid,
      chain: `syn-${callid}`,
      kind: 'inbound',
      from: caller,
      to: '+15550101',
      did: '+15550101',
      ruleName: 'Sales line',
      startedAt: start,
      answeredAt,
      endedAt: end,
      answeredBy: abandoned ? null : agent,
      queue: { dn: queue, waitMs, abandoned, agentsRung: [agent], answeredBy: abandoned ? null : agent },
      transfers: [],
      segments,
      recordings: [],
      status: 'ended'
    })
  }
  return records
}
