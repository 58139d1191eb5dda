// DID rule names for inbound calls. Call Control leaves `party_did` empty on inbound calls (a real
// 3CX quirk), so the rule is inferred from the trunk DN plus the first internal DN the trunk leg is
// routed to (the rule's office-hours destination); when a DID is given, from (trunk DN, DID).
// `DidMap` is a pure lookup over loaded rules; `DidMapLoader` keeps it fresh from XAPI.
import type { XapiApi } from '../pbx/pbx-api.js'

export interface InboundRuleEntry {
  ruleName: string
  /** The DID (or mask) the rule matches (`Data`). */
  did: string
  /** Trunk DN (`TrunkDN.Number`), '' when the rule is not tied to a trunk. */
  trunkDn: string
  /** DNs the rule routes to (office hours first, then out of office, holidays). */
  destinations: string[]
}

export interface DidQuery {
  trunkDn: string
  /** `party_did` when 3CX filled it in. */
  did: string
  /** First internal DN the trunk leg was routed to. */
  firstDestination: string
  /** What to answer when no rule matches (the dialled number, or ''). */
  fallback?: string
}

interface RawInboundRule {
  RuleName?: string | null
  Data?: string | null
  TrunkDN?: { Number?: string | null } | null
  OfficeHoursDestination?: { Number?: string | null } | null
  OutOfOfficeHoursDestination?: { Number?: string | null } | null
  HolidaysDestination?: { Number?: string | null } | null
}

/** XAPI `InboundRules` rows → entries; rows without a name are skipped. */
export function parseInboundRules (rows: readonly unknown[]): InboundRuleEntry[] {
  const out: InboundRuleEntry[] = []
  for (const row of rows) {
    if (typeof row !== 'object' || row === null) continue
    const r = row as RawInboundRule
    const ruleName = r.RuleName ?? ''
    if (ruleName === '') continue
    const destinations = [r.OfficeHoursDestination, r.OutOfOfficeHoursDestination, r.HolidaysDestination]
      .map((d) => d?.Number ?? '')
      .filter((n, i, all) => n !== '' && all.indexOf(n) === i)
    out.push({ ruleName, did: r.Data ?? '', trunkDn: r.TrunkDN?.Number ?? '', destinations })
  }
  return out
}

/** Digits only, so `+1 555-0101` and `15550101` compare equal. */
function digits (s: string): string {
  return s.replace(/\D/g, '')
}

/** A rule's `Data` may be a mask with `*` / `x` wildcards; compare digit by digit. */
function didMatches (pattern: string, did: string): boolean {
  const p = pattern.replace(/[^\dxX*?]/g, '')
  const d = digits(did)
  if (p === '' || d === '') return false
  if (!/[xX*?]/.test(p)) return p === d || d.endsWith(p) || p.endsWith(d)
  const re = new RegExp('^' + p.replace(/[xX?]/g, '\\d').replace(/\*/g, '\\d*') + '$')
  return re.test(d)
}

export class DidMap {
  constructor (readonly rules: readonly InboundRuleEntry[] = []) {}

  /** The rule name for an inbound call, else the fallback (or ''). */
  lookup (q: DidQuery): string {
    const onTrunk = (r: InboundRuleEntry): boolean => r.trunkDn === '' || q.trunkDn === '' || r.trunkDn === q.trunkDn
    if (q.did !== '') {
      const byDid = this.rules.find((r) => onTrunk(r) && didMatches(r.did, q.did))
      if (byDid !== undefined) return byDid.ruleName
    }
    if (q.firstDestination !== '') {
      const byOffice = this.rules.find((r) => onTrunk(r) && r.destinations[0] === q.firstDestination)
      if (byOffice !== undefined) return byOffice.ruleName
      const byAny = this.rules.find((r) => onTrunk(r) && r.destinations.includes(q.firstDestination))
      if (byAny !== undefined) return byAny.ruleName
    }
    return q.fallback ?? q.did
  }
}

export interface DidMapLoaderOptions {
  xapi: XapiApi
  /** How often the rules are re-read; default 5 minutes. */
  refreshMs?: number
  log?: { warn: (obj: unknown, msg?: string) => void }
}

/** Loads `InboundRules?$expand=TrunkDN`, keeps the last good map when a refresh fails. */
export class DidMapLoader {
  private map = new DidMap()
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly opts: DidMapLoaderOptions) {}

  current (): DidMap {
    return this.map
  }

  lookup (q: DidQuery): string {
    return this.map.lookup(q)
  }

  async refresh (): Promise<DidMap> {
    const rows = await this.opts.xapi.list('InboundRules', { query: { expand: ['TrunkDN'] } })
    this.map = new DidMap(parseInboundRules(rows.value))
    return this.map
  }

  /** First load (errors logged, not thrown) and periodic refresh. */
  async start (): Promise<void> {
    await this.refreshLogged()
    this.timer = setInterval(() => { void this.refreshLogged() }, this.opts.refreshMs ?? 300_000)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private async refreshLogged (): Promise<void> {
    try {
      await this.refresh()
    } catch (err) {
      this.opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not load inbound rules; DID rule names fall back to the dialled number')
    }
  }
}
