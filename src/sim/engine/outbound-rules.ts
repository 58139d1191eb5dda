// Which trunk an external number leaves by, as 3CX's outbound rules decide: the rules in order of
// Priority, the first whose prefix, number length, caller range and caller group all match and one
// of whose routes is a trunk that takes outbound calls. No such rule: the PBX refuses the call
// (NoDestinations). A PBX none of whose rules has a route (the default PBX, and any PBX described
// without OutboundRules: the generic XAPI store then holds one empty rule) sends every external
// number out of the first trunk that takes outbound calls. Pure: rules come as XAPI rows.
import type { SimTrunk, SimUser } from '../sim-types.js'

/** The fields of a `Pbx.OutboundRule` row this decision reads (all optional, as rows are). */
export interface OutboundRuleRow {
  Priority?: number | null
  Prefix?: string | null
  NumberLengthRanges?: string | null
  DNRanges?: Array<{ From?: string | null, To?: string | null }> | null
  GroupIds?: number[] | null
  Routes?: Array<{ TrunkId?: number | null }> | null
}

function takesOutbound (trunk: SimTrunk): boolean {
  return trunk.IsOnline && trunk.EnableOutboundCalls
}

/** "7,10-11" holds 7, 10 and 11; an empty or missing text holds every length. */
export function lengthAllowed (ranges: string | null | undefined, length: number): boolean {
  const parts = (ranges ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')
  if (parts.length === 0) return true
  return parts.some((part) => {
    const [from, to = from] = part.split('-').map((x) => Number(x.trim()))
    return Number.isFinite(from) && Number.isFinite(to) && length >= from && length <= to
  })
}

function callerInRanges (ranges: OutboundRuleRow['DNRanges'], dn: string): boolean {
  if (ranges === null || ranges === undefined || ranges.length === 0) return true
  const n = Number(dn)
  return ranges.some((r) => {
    const from = Number(r.From ?? '')
    const to = Number(r.To ?? r.From ?? '')
    return r.From === dn || (Number.isFinite(n) && Number.isFinite(from) && Number.isFinite(to) && n >= from && n <= to)
  })
}

function matches (rule: OutboundRuleRow, callerDn: string, caller: SimUser | undefined, number: string): boolean {
  const digits = number.replace(/^\+/, '')
  const prefix = rule.Prefix ?? ''
  if (prefix !== '' && !number.startsWith(prefix) && !digits.startsWith(prefix)) return false
  if (!lengthAllowed(rule.NumberLengthRanges, digits.length)) return false
  if (!callerInRanges(rule.DNRanges, callerDn)) return false
  const groups = rule.GroupIds ?? []
  return groups.length === 0 || (caller?.Groups.some((g) => groups.includes(g.GroupId)) ?? false)
}

/** The trunk the number leaves by, or why none does (the sentence of a NoDestinations refusal). */
export function outboundTrunk (
  rules: readonly OutboundRuleRow[], trunks: readonly SimTrunk[], callerDn: string, caller: SimUser | undefined, number: string
): SimTrunk | string {
  const routed = rules.filter((r) => (r.Routes ?? []).length > 0)
  if (routed.length === 0) return trunks.find(takesOutbound) ?? 'no trunk takes outbound calls'
  const ordered = [...routed].sort((a, b) => (a.Priority ?? 0) - (b.Priority ?? 0))
  for (const rule of ordered) {
    if (!matches(rule, callerDn, caller, number)) continue
    for (const route of rule.Routes ?? []) {
      const trunk = trunks.find((t) => t.Id === route.TrunkId)
      if (trunk !== undefined && takesOutbound(trunk)) return trunk
    }
  }
  return `no outbound rule allows ${number} from ${callerDn} through a trunk that takes outbound calls`
}
