// Where XAPI's history, recordings, reports and active calls come from: the engine's records, plus
// records a test or benchmark injected (e.g. 30,000 synthetic calls for the 100,000-row export).
// Injected records hang off the current directory object, so `sim.reset()` (which replaces the
// directory) drops them too.
import type { SimContext } from '../sim-context.js'
import type { SimCallRecord, SimDirectory } from '../sim-types.js'

const injected = new WeakMap<SimDirectory, SimCallRecord[]>()

/** Adds records served by CallHistoryView, Recordings and the reports as if the engine had played them. */
export function injectCallRecords (ctx: SimContext, records: readonly SimCallRecord[]): void {
  const list = injected.get(ctx.directory) ?? []
  for (const record of records) list.push(record)
  injected.set(ctx.directory, list)
}

/** Injected records first (they are history), then the engine's own, oldest first. */
export function callRecords (ctx: SimContext): readonly SimCallRecord[] {
  const extra = injected.get(ctx.directory)
  const own = ctx.engine.records()
  return extra === undefined || extra.length === 0 ? own : [...extra, ...own]
}
