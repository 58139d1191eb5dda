// Test helper: the `resync` a Call Control snapshot would give after the given changes.
import type { DNInfo, ParticipantChange } from '../../src/pbx/callcontrol-types.js'
import { dnTypeOf } from './participant-script.js'

/** The participants a snapshot would hold after the given changes. */
export function snapshotAfter (changes: ParticipantChange[], at: number): ParticipantChange {
  const legs = new Map<string, ParticipantChange & { kind: 'upsert' }>()
  for (const c of changes) {
    if (c.kind === 'upsert') legs.set(`${c.participant.dn}#${c.participant.id}`, c)
    else if (c.kind === 'remove') legs.delete(`${c.dn}#${c.id}`)
  }
  const byDn = new Map<string, DNInfo>()
  for (const c of legs.values()) {
    const dn = c.participant.dn
    if (!byDn.has(dn)) byDn.set(dn, { dn, type: dnTypeOf(dn), devices: [], participants: [] })
    byDn.get(dn)?.participants.push(c.participant)
  }
  return { kind: 'resync', dns: [...byDn.values()], at }
}
