// Queue performance over a range read in several chunks: one row per queue and agent per chunk, to be
// summed. Agent counters add up per (queue, agent); queue counters (received, answered) repeat on
// every agent row of a chunk, so they are taken once per queue and chunk, summed, and written back
// on every row of that queue. Pure.
import { durationSeconds, isoDuration, type ReportRow } from './report-rows.js'

const AGENT_COUNTERS = ['ExtensionAnsweredCount', 'ExtensionDroppedCount'] as const
const QUEUE_COUNTERS = ['QueueReceivedCount', 'QueueAnsweredCount'] as const

function num (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

export function mergeQueuePerformance (chunks: ReadonlyArray<readonly ReportRow[]>): ReportRow[] {
  const rows = new Map<string, { row: ReportRow, talkSeconds: number }>()
  const queueTotals = new Map<string, Record<string, number>>()
  for (const chunk of chunks) {
    const seenQueues = new Map<string, Record<string, number>>()
    for (const r of chunk) {
      const queue = String(r.QueueDn ?? '')
      const key = `${queue}\u0000${String(r.ExtensionDn ?? '')}`
      const talk = durationSeconds(r.TalkTime) ?? 0
      const existing = rows.get(key)
      if (existing === undefined) {
        rows.set(key, { row: { ...r }, talkSeconds: talk })
      } else {
        for (const c of AGENT_COUNTERS) existing.row[c] = num(existing.row[c]) + num(r[c])
        existing.talkSeconds += talk
      }
      const inChunk = seenQueues.get(queue) ?? {}
      for (const c of QUEUE_COUNTERS) inChunk[c] = Math.max(inChunk[c] ?? 0, num(r[c]))
      seenQueues.set(queue, inChunk)
    }
    for (const [queue, counts] of seenQueues) {
      const total = queueTotals.get(queue) ?? {}
      for (const c of QUEUE_COUNTERS) total[c] = (total[c] ?? 0) + (counts[c] ?? 0)
      queueTotals.set(queue, total)
    }
  }
  return [...rows.values()].map(({ row, talkSeconds }) => {
    const totals = queueTotals.get(String(row.QueueDn ?? '')) ?? {}
    const out: ReportRow = { ...row, TalkTime: isoDuration(talkSeconds) }
    for (const c of QUEUE_COUNTERS) out[c] = totals[c] ?? 0
    return out
  })
}
