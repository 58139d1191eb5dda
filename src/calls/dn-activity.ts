// Per-DN counts of legs in calls (busy) and of legs talking (Connected), kept up to date from each
// leg's status before and after a change, for the legacy routes' busy/talking answers.
import type { ParticipantStatus } from '../pbx/callcontrol-types.js'

export class DnActivity {
  private readonly busy = new Map<string, number>()
  private readonly talking = new Map<string, number>()

  isBusy (dn: string): boolean {
    return (this.busy.get(dn) ?? 0) > 0
  }

  isTalking (dn: string): boolean {
    return (this.talking.get(dn) ?? 0) > 0
  }

  /** A leg of `dn` went from `before` to `after` (undefined: not in a call). */
  count (dn: string, before: ParticipantStatus | undefined, after: ParticipantStatus | undefined): void {
    if (before === after) return
    const bump = (m: Map<string, number>, d: number): void => {
      const n = (m.get(dn) ?? 0) + d
      if (n <= 0) m.delete(dn)
      else m.set(dn, n)
    }
    if (before === undefined) bump(this.busy, 1)
    if (after === undefined) bump(this.busy, -1)
    if (before === 'Connected') bump(this.talking, -1)
    if (after === 'Connected') bump(this.talking, 1)
  }
}
