// Shared body of the CI fault tests: runs one scenario in its CI size and asserts the verdict.
import type { Test } from 'tap'
import { SCENARIOS } from './lib/scenarios.js'
import { problemsOf, summaryLine } from './lib/verdict.js'

export async function runScenarioTest (t: Test, index: number): Promise<void> {
  const scenario = SCENARIOS[index]
  const result = await scenario.run('ci')
  t.comment(summaryLine(result))
  for (const n of result.notes) t.comment(n)
  const problems = problemsOf(result)
  t.same(problems, [], `${scenario.name}: nothing lost, order kept, no phantoms, no crash, heap back near its baseline`)
  t.ok(result.report.received > 0, 'events were delivered')
  // What the scenario claims beyond the ground truth is asserted one by one; every scenario claims something.
  t.ok(result.claims.length > 0, `${scenario.name}: the scenario checks its own claims`)
  for (const c of result.claims) t.ok(c.ok, c.what, { got: c.got })
}
