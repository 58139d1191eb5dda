// Pass/fail of one scenario result, shared by the CI tests and the long run's report.
import { describeFindings } from './ground-truth.js'
import type { ScenarioResult } from './fault-rig.js'

/** Heap may grow this much over the baseline (MB) and still count as "back near it". */
export const HEAP_SLACK_MB = 40

/** Every finding fails the scenario: a wrong value (trtype included) is as wrong as a lost event. */
export function problemsOf (r: ScenarioResult): string[] {
  const p: string[] = []
  if (r.crashed) p.push('the gateway crashed')
  for (const c of r.claims.filter((c) => !c.ok)) p.push(`claim failed: ${c.what} (got ${c.got})`)
  if (r.report.lost.length > 0) p.push(`lost ${r.report.lost.length}:\n${describeFindings(r.report.lost)}`)
  if (r.report.outOfOrder.length > 0) p.push(`out of order ${r.report.outOfOrder.length}:\n${describeFindings(r.report.outOfOrder)}`)
  if (r.report.wrong.length > 0) p.push(`wrong ${r.report.wrong.length}:\n${describeFindings(r.report.wrong)}`)
  if (r.phantoms !== 0) p.push(`${r.phantoms} phantom call(s) left in pbx.ac.get`)
  if (!(r.heapMb.end <= r.heapMb.baseline + HEAP_SLACK_MB)) p.push(`heap ${r.heapMb.end} MB at the end vs ${r.heapMb.baseline} MB at start`)
  // A test that can fail: enough calls were really checked. Every ended call owes at least its final
  // call-ended event (calls not seen live too), so the floor on fully checked calls is only a sanity check:
  // how many fall into SIGKILL windows depends on how fast a loaded machine restarts the gateway.
  if (r.report.fullyChecked < 10 || r.report.expectedEnded < 50) p.push(`only ${r.report.fullyChecked} of ${r.report.calls} calls fully checked (${r.report.expectedEnded} call-ended events owed)`)
  return p
}

export function summaryLine (r: ScenarioResult): string {
  const x = r.report
  return `${r.name}: ${r.calls} calls (${x.fullyChecked} fully checked, ${x.unobservable} not seen live, ${x.tooShort} too short to observe), ` +
    `${x.expectedEnded} ended + ${x.expectedStarted} started expected; received ${x.received} (${x.unique} unique, ${x.duplicates} duplicates, ${x.reDerived} re-derived); ` +
    `lost ${x.lost.length}, out of order ${x.outOfOrder.length}, wrong ${x.wrong.length}, phantoms ${r.phantoms}; ` +
    `ringing ${x.ringing.received}/${x.ringing.expected}; heap ${r.heapMb.baseline}→${r.heapMb.end} MB; restarts ${r.restarts}; ${r.errorLines.length} error log lines`
}
