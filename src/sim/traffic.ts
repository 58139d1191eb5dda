// Random but realistic (and seeded, so repeatable) call traffic for POST /_sim/traffic: a mix of
// every call path the engine plays, built from the current directory so that only reachable
// extensions are asked to answer. Pure script generation (`trafficScript`) is separate from the
// pacing (`TrafficGenerator`), which starts calls on a 50 ms tick at the requested rate.
import type { CallScript } from './engine/call-script.js'
import type { CallEngine } from './engine/call-engine.js'
import { groupMembers, unreachableReason } from './engine/dn-lookup.js'
import { pick, randomInt, seededRandom, type Random } from './engine/seeded-random.js'
import type { SimDirectory } from './sim-types.js'

export interface TrafficOptions {
  callsPerSecond: number
  seconds: number
  seed?: number
  /** Upper bounds of the random ring and talk times (defaults 8 s and 30 s). */
  maxRingMs?: number
  maxTalkMs?: number
  /** Share of calls recorded (default 0.3). */
  recordShare?: number
  /**
   * Share of calls that dial the route point's DID for its application, each caller pressing a
   * seeded key once answered (default 0: the classic mix, unchanged for a given seed).
   */
  routePointShare?: number
  /**
   * Whether busy extensions are busy for the generated calls (busy forwarding, as 3CX). Default
   * false: every call plays as its script says, so a seed's outcomes do not depend on timing.
   */
  busy?: boolean
  /**
   * Share of calls that wait in the Sales queue, ask to be called back and are called back by one of
   * its agents (default 0: the classic mix, unchanged for a given seed).
   */
  callbackShare?: number
  /**
   * Whether the first call starts at once instead of one interval in (default false). Demo mode sets
   * it: at 4 calls a minute a newcomer's first request would otherwise find no call for 15 s.
   */
  firstCallAtOnce?: boolean
}

export interface TrafficStats {
  running: boolean
  planned: number
  started: number
  /** Scripts the engine refused (the directory changed under the generator). */
  failed: number
  byPath: Record<string, number>
  lastError: string | null
}

export const TRAFFIC_LIMITS = { maxCallsPerSecond: 500, maxSeconds: 86_400 } as const

const TICK_MS = 50

type PathName = 'queue' | 'queue-missed' | 'direct' | 'ivr' | 'ringgroup' | 'outbound' | 'outbound-missed' | 'internal' | 'blind' | 'attended' | 'routepoint' | 'callback'

const MIX: ReadonlyArray<readonly [PathName, number]> = [
  ['queue', 25], ['queue-missed', 8], ['direct', 10], ['ivr', 12], ['ringgroup', 5],
  ['outbound', 15], ['outbound-missed', 5], ['internal', 8], ['blind', 7], ['attended', 5]
]
const MIX_TOTAL = MIX.reduce((n, [, w]) => n + w, 0)
/** The keys a route-point caller presses (an IVR's menu choices). */
const ROUTE_POINT_KEYS = ['1', '2', '3', '0', '#']

function pickPath (rnd: Random): PathName {
  let x = rnd() * MIX_TOTAL
  for (const [name, w] of MIX) {
    x -= w
    if (x < 0) return name
  }
  return 'queue'
}

function externalNumber (rnd: Random): string {
  return `+1555${String(randomInt(rnd, 2_000_000, 9_999_999))}`
}

function reachableExtensions (dir: SimDirectory): string[] {
  return dir.users.filter((u) => unreachableReason(dir, u.Number) === null).map((u) => u.Number)
}

function reachableMember (dir: SimDirectory, rnd: Random, dn: string): string | null {
  const members = groupMembers(dir, dn).filter((m) => m.skip === null).map((m) => m.dn)
  return members.length === 0 ? null : pick(rnd, members)
}

/** One random call of the given path; falls back to an unanswered call when nobody can answer. */
export function trafficScript (dir: SimDirectory, rnd: Random, path: PathName, opts: { maxRingMs: number, maxTalkMs: number, recordShare: number }): CallScript {
  const ringMs = randomInt(rnd, Math.min(100, opts.maxRingMs), opts.maxRingMs)
  const talkMs = randomInt(rnd, Math.min(200, opts.maxTalkMs), opts.maxTalkMs)
  const record = rnd() < opts.recordShare
  const base = { ringMs, talkMs, record, recordingSegments: record && rnd() < 0.2 ? 2 : 1, hangup: rnd() < 0.5 ? 'caller' as const : 'callee' as const }
  const exts = reachableExtensions(dir)
  const someExt = (not?: string): string | null => {
    const c = exts.filter((e) => e !== not)
    return c.length === 0 ? null : pick(rnd, c)
  }
  const rule = (kind: string): string | null => dir.inboundRules.find((r) => r.OfficeHoursDestination.To === kind)?.Data ?? null
  const caller = externalNumber(rnd)
  switch (path) {
    case 'queue':
    case 'queue-missed':
    case 'callback': {
      const did = rule('Queue')
      if (did === null) break
      const target = dir.inboundRules.find((r) => r.Data === did)?.OfficeHoursDestination.Number ?? ''
      const answer = path === 'queue-missed' ? null : reachableMember(dir, rnd, target)
      return path === 'callback' ? { ...base, from: caller, to: did, answer, callback: true } : { ...base, from: caller, to: did, answer }
    }
    case 'direct': {
      const r = dir.inboundRules.find((x) => x.OfficeHoursDestination.To === 'Extension')
      if (r === undefined) break
      const ext = r.OfficeHoursDestination.Number
      return { ...base, from: caller, to: r.Data, answer: unreachableReason(dir, ext) === null && rnd() < 0.8 ? ext : null }
    }
    case 'ivr': {
      const r = dir.inboundRules.find((x) => x.OfficeHoursDestination.To === 'IVR')
      const ivr = dir.receptionists.find((x) => x.Number === r?.OfficeHoursDestination.Number)
      if (r === undefined || ivr === undefined || ivr.Forwards.length === 0) break
      const fwd = pick(rnd, ivr.Forwards)
      return { ...base, from: caller, to: r.Data, menu: fwd.Input, answer: reachableMember(dir, rnd, fwd.ForwardDN) }
    }
    case 'ringgroup': {
      const from = someExt()
      const group = dir.ringGroups[0]
      if (from === null || group === undefined) break
      const answer = reachableMember(dir, rnd, group.Number)
      return { ...base, from, to: group.Number, answer: answer === from ? null : answer }
    }
    case 'internal': {
      const from = someExt()
      const to = from === null ? null : someExt(from)
      if (from === null || to === null) break
      return { ...base, from, to, answer: to }
    }
    case 'routepoint': {
      const r = dir.inboundRules.find((x) => x.OfficeHoursDestination.To === 'RoutePoint')
      if (r === undefined) break
      return { ...base, from: caller, to: r.Data, answer: null, dtmf: pick(rnd, ROUTE_POINT_KEYS) }
    }
    case 'blind':
    case 'attended': {
      const r = dir.inboundRules.find((x) => x.OfficeHoursDestination.To === 'Extension')
      const ext = r?.OfficeHoursDestination.Number ?? ''
      const target = someExt(ext)
      if (r === undefined || unreachableReason(dir, ext) !== null || target === null) break
      const transfer = { kind: path, to: target, afterMs: Math.round(talkMs / 2), answer: rnd() < 0.8 }
      return { ...base, from: caller, to: r.Data, answer: ext, transfer }
    }
    default:
      break
  }
  // outbound, outbound-missed, and any path the directory cannot support
  const from = someExt() ?? dir.users[0]?.Number ?? '100'
  return { ...base, from, to: externalNumber(rnd), answer: path === 'outbound-missed' ? null : 'remote' }
}

/** Paces random calls into the engine; one run at a time (a new start replaces the old run). */
export class TrafficGenerator {
  private timer: NodeJS.Timeout | null = null
  private stats: TrafficStats = { running: false, planned: 0, started: 0, failed: 0, byPath: {}, lastError: null }

  constructor (private readonly engine: CallEngine, private readonly directory: () => SimDirectory, private readonly defaultSeed: number) {}

  /** Starts a run; returns how many calls it will start. */
  start (opts: TrafficOptions): number {
    this.stop()
    const planned = Math.round(opts.callsPerSecond * opts.seconds)
    const rnd = seededRandom(opts.seed ?? this.defaultSeed)
    const scriptOpts = { maxRingMs: opts.maxRingMs ?? 8000, maxTalkMs: opts.maxTalkMs ?? 30_000, recordShare: opts.recordShare ?? 0.3 }
    const routePointShare = opts.routePointShare ?? 0
    const busy = opts.busy ?? false
    const callbackShare = opts.callbackShare ?? 0
    const stats: TrafficStats = { running: true, planned, started: 0, failed: 0, byPath: {}, lastError: null }
    this.stats = stats
    const t0 = Date.now()
    const tick = (): void => {
      const due = Math.min(planned, Math.floor((Date.now() - t0) / 1000 * opts.callsPerSecond) + (opts.firstCallAtOnce === true ? 1 : 0))
      while (stats.started + stats.failed < due) {
        const path = routePointShare > 0 && rnd() < routePointShare
          ? 'routepoint'
          : callbackShare > 0 && rnd() < callbackShare ? 'callback' : pickPath(rnd)
        try {
          this.engine.startCall({ ...trafficScript(this.directory(), rnd, path, scriptOpts), busy })
          stats.started++
          stats.byPath[path] = (stats.byPath[path] ?? 0) + 1
        } catch (err) {
          stats.failed++
          stats.lastError = (err as Error).message
        }
      }
      if (stats.started + stats.failed >= planned) this.stop()
    }
    this.timer = setInterval(tick, TICK_MS)
    this.timer.unref()
    tick()
    return planned
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.stats.running = false
  }

  status (): TrafficStats {
    return { ...this.stats, byPath: { ...this.stats.byPath } }
  }
}
