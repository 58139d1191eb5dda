// Which tenants (PBX event streams) each live replica should hold: pure functions, no clock, no I/O
// (replicas/spread-keeper.ts runs them). The spread is rendezvous hashing with bounded loads: every
// (tenant, replica) pair gets a score from a hash of both ids, and tenants go to their best-scoring
// replica that still has room, pairs taken best score first. Room is exact: every replica gets
// floor(T/R) tenants and T mod R of them one more. The same replicas and tenants give the same
// answer on every replica (in whatever order they are listed), and a replica joining or leaving
// moves few tenants: mostly the ones whose best score is with that replica.
import { createHash } from 'node:crypto'

/** A pair's score: the first 48 bits of SHA-256 of both ids (deterministic on every replica). */
function score (tenant: string, replica: string): number {
  return createHash('sha256').update(tenant).update('\0').update(replica).digest().readUIntBE(0, 6)
}

/** Replica → the tenants it should hold (every tenant exactly once; none when there is no replica). */
export function spreadTenants (replicas: readonly string[], tenants: readonly string[]): Map<string, string[]> {
  const rs = [...new Set(replicas)].sort()
  const ts = [...new Set(tenants)].sort()
  const out = new Map<string, string[]>(rs.map((r) => [r, []]))
  if (rs.length === 0) return out
  const base = Math.floor(ts.length / rs.length)
  let bigLeft = ts.length % rs.length
  const pairs = ts.flatMap((t) => rs.map((r) => ({ t, r, s: score(t, r) })))
  pairs.sort((a, b) => b.s - a.s || (a.t < b.t ? -1 : a.t > b.t ? 1 : 0) || (a.r < b.r ? -1 : 1))
  const placed = new Set<string>()
  for (const { t, r } of pairs) {
    if (placed.has(t)) continue
    const mine = out.get(r) as string[]
    if (mine.length < base) mine.push(t)
    else if (mine.length === base && bigLeft > 0) { mine.push(t); bigLeft-- } else continue
    placed.add(t)
  }
  for (const list of out.values()) list.sort()
  return out
}

export interface SpreadView {
  /** This replica. */
  self: string
  /** The live replicas (the registry's), this one among them once it is registered. */
  replicas: readonly string[]
  tenants: readonly string[]
  /** Tenant → the replica holding its stream now (null or absent: nobody, or unknown). */
  holders: ReadonlyMap<string, string | null>
}

export interface SpreadPlan {
  /** Tenants this replica should hold: it takes their free leases at once (others wait a little). */
  designated: Set<string>
  /** How many this replica should hold. */
  quota: number
  /** Tenants this replica should give back now (gracefully), fewest first. */
  release: string[]
  /** Live replica → how many tenants it holds now. */
  holding: Map<string, number>
}

/**
 * What this replica does about the spread. Hysteresis: holdings between floor(T/R) and ceil(T/R)
 * are even enough and nothing moves (which tenant is where does not matter then); a replica gives
 * tenants back only when it holds more than ceil(T/R), or more than its quota while another live
 * replica holds fewer than floor(T/R). It gives back the extras it is not designated for, those
 * whose designated replica is short first, so each move brings a tenant to its designated holder.
 * A replica not (yet) in the registry's list designates nothing and gives nothing back.
 */
export function planSpread (v: SpreadView): SpreadPlan {
  const live = new Set(v.replicas)
  const holding = new Map<string, number>([...live].map((r) => [r, 0]))
  for (const t of v.tenants) {
    const h = v.holders.get(t)
    if (h !== null && h !== undefined && live.has(h)) holding.set(h, (holding.get(h) ?? 0) + 1)
  }
  if (!live.has(v.self)) return { designated: new Set(), quota: 0, release: [], holding }
  const spread = spreadTenants(v.replicas, v.tenants)
  const designatedTo = new Map<string, string>()
  for (const [r, ts] of spread) for (const t of ts) designatedTo.set(t, r)
  const designated = new Set(spread.get(v.self))
  const quota = designated.size
  const tenants = [...new Set(v.tenants)]
  const floor = Math.floor(tenants.length / live.size)
  const ceil = Math.ceil(tenants.length / live.size)
  const held = holding.get(v.self) ?? 0
  const someoneShort = [...holding.values()].some((n) => n < floor)
  if (!(held > ceil || (held > quota && someoneShort))) return { designated, quota, release: [], holding }
  const short = (t: string): boolean => {
    const r = designatedTo.get(t) as string
    return (holding.get(r) ?? 0) < (spread.get(r)?.length ?? 0)
  }
  const extras = tenants.filter((t) => v.holders.get(t) === v.self && !designated.has(t))
    .sort((a, b) => Number(short(b)) - Number(short(a)) || (a < b ? -1 : 1))
  return { designated, quota, release: extras.slice(0, held - quota), holding }
}
