// `npm run test:faults`: every fault scenario in its long form, one after the other, and the report
// bench/faults-report.md (a table per scenario, the command, the verdict). Exits 1 when any scenario
// fails. `node --import tsx test/faults/lib/long-run.ts --scale ci --only 2` runs one scenario small.
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { SCENARIOS, runSoak, type Scale, type SoakSample } from './scenarios.js'
import { problemsOf, summaryLine, HEAP_SLACK_MB } from './verdict.js'
import { GRACE_MS, type ScenarioResult } from './fault-rig.js'
import type { Finding } from './ground-truth.js'

const { values } = parseArgs({ options: { scale: { type: 'string', default: 'long' }, only: { type: 'string' }, report: { type: 'string' }, soak: { type: 'string' }, findings: { type: 'string' } } })

// `npm run test:faults -- --soak 30`: the soak alone → bench/soak-report.md.
if (values.soak !== undefined) {
  const minutes = Number(values.soak)
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error('--soak takes a whole number of minutes')
  const samples: SoakSample[] = []
  const result = await runSoak(minutes, samples)
  const problems = problemsOf(result)
  const x = result.report
  const perMinute = samples.map((s) => {
    const inMinute = (f: Finding): boolean => f.at !== undefined && f.at >= s.from && f.at < s.from + 60_000
    return [x.lost, x.outOfOrder, x.wrong].map((list) => list.filter(inMinute).length)
  })
  if (values.findings !== undefined) {
    const lines = (['lost', 'outOfOrder', 'wrong'] as const).flatMap((kind) => x[kind].map((f) => `${kind}\t+${f.at === undefined ? '?' : Math.round((f.at - (samples[0]?.from ?? 0)) / 1000)}s\t${f.chid}\t${f.what}\t${f.got ?? ''}`))
    writeFileSync(values.findings, [...lines, ...result.errorLines.map((l) => `error-log\t${l}`)].join('\n') + '\n')
  }
  const md = [
    '# Soak: 20 calls/s with a fault every minute',
    '',
    `Produced by \`npm run test:faults -- --soak ${minutes}\` on ${new Date().toISOString()}, ${os.cpus().length} CPU(s), Node ${process.version}.`,
    'Faults in turn: WebSocket dropped, 20% XAPI errors + 200 ms for 20 s, tokens revoked, receiver down 20 s, PBX down 10 s, gateway SIGKILL.',
    '',
    `Ground truth: ${summaryLine(result)}`,
    '',
    'Lost / out of order / wrong are counted against the minute their call started in.',
    '',
    '| minute | fault | heap MB | RSS MB | outbox depth | calls in progress | lost | out of order | wrong |',
    '|---|---|---|---|---|---|---|---|---|',
    ...samples.map((s, i) => `| ${s.minute} | ${s.fault} | ${s.heapMb} | ${s.rssMb} | ${s.outboxDepth} | ${s.callsInProgress} | ${perMinute[i].join(' | ')} |`),
    '',
    ...result.notes.map((n) => `- ${n}`),
    ...errorSummary(result).map((l) => `- ${l}`),
    ...problems.map((p) => `- ✗ ${p}`),
    '',
    `Verdict: ${problems.length === 0 ? 'pass (lost 0, phantoms 0)' : 'FAIL'}.`,
    ''
  ].join('\n')
  writeFileSync(values.report ?? 'bench/soak-report.md', md)
  process.stdout.write(`soak report written; ${problems.length === 0 ? 'pass' : 'FAIL'}\n`)
  process.exit(problems.length === 0 ? 0 : 1)
}
/** The gateway's error log lines, counted by message (secrets never reach the log; the messages are safe to print). */
function errorSummary (r: ScenarioResult): string[] {
  const byMsg = new Map<string, number>()
  for (const line of r.errorLines) {
    // Lines are cut at 400 characters by the rig: read the message with a pattern, not JSON.parse.
    let msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line
    msg = msg.replace(/\d{12}_\d+(-\d+)*/g, '…').slice(0, 200)
    byMsg.set(msg, (byMsg.get(msg) ?? 0) + 1)
  }
  return [...byMsg].map(([msg, n]) => `error log ×${n}: ${msg}`)
}

const scale: Scale = values.scale === 'ci' ? 'ci' : 'long'
const chosen = values.only === undefined ? SCENARIOS : values.only.split(',').map((i) => SCENARIOS[Number(i)])
const reportPath = values.report ?? (scale === 'long' && values.only === undefined ? 'bench/faults-report.md' : null)

const results: Array<{ result: ScenarioResult, summary: string, problems: string[] }> = []
for (const s of chosen) {
  const started = Date.now()
  process.stdout.write(`▶ ${s.name} (${scale}) …\n`)
  try {
    const result = await s.run(scale)
    const problems = problemsOf(result)
    results.push({ result, summary: s.summary(scale), problems })
    process.stdout.write(`  ${summaryLine(result)}\n`)
    for (const n of result.notes) process.stdout.write(`  note: ${n}\n`)
    for (const c of result.claims) process.stdout.write(`  ${c.ok ? '✓' : '✗'} ${c.what} (${c.got})\n`)
    for (const p of problems) process.stdout.write(`  ✗ ${p}\n`)
  } catch (err) {
    process.stdout.write(`  ✗ ${s.name} failed to run after ${Math.round((Date.now() - started) / 1000)} s: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}
const failed = results.some((r) => r.problems.length > 0)
if (failed) process.exitCode = 1

if (reportPath !== null) {
  const row = (r: ScenarioResult, problems: string[]): string => {
    const x = r.report
    return `| ${r.name} | ${r.seconds} | ${r.calls} | ${x.fullyChecked} | ${x.unobservable} | ${x.tooShort} | ${x.expectedEnded} / ${x.expectedStarted} | ${x.unique} | ${x.duplicates} | ${x.reDerived} | ${x.lost.length} | ${x.outOfOrder.length} | ${x.wrong.length} | ${r.phantoms} | ${x.ringing.received} / ${x.ringing.expected} | ${r.heapMb.baseline} → ${r.heapMb.end} | ${r.crashed ? 'yes' : 'no'} | ${problems.length === 0 ? 'pass' : 'FAIL'} |`
  }
  const md = [
    '# Fault suite: long form',
    '',
    `Produced by \`npm run test:faults\` (\`node --expose-gc --import tsx test/faults/lib/long-run.ts\`) on ${new Date().toISOString()},`,
    `${os.cpus().length} CPU(s), Node ${process.version}. Simulator and receiver in the test process, the gateway in a child`,
    `process (test/faults/lib/gateway-child.ts) on one DATA_DIR; retry schedule \`0,50ms,200ms,500ms\`, CALL_END_GRACE_MS=${GRACE_MS},`,
    'traffic from `POST /_sim/traffic` with ring ≤ 1.5 s and talk ≤ 2.5 s.',
    '',
    '| scenario | what it did |',
    '|---|---|',
    ...results.map(({ result, summary }) => `| ${result.name} | ${summary} |`),
    '',
    '| scenario | s | calls | fully checked | not seen live | too short to see | ended / started expected | unique events | duplicates (same webhook-id) | re-derived | lost | out of order | wrong | phantoms | ringing got / seen | heap MB start → end | crash | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(({ result, problems }) => row(result, problems)),
    '',
    '- **lost**: a call-ended (or call-started) event the ground truth owes and the receiver never got. **duplicates**: the',
    '  same `webhook-id` delivered again (at-least-once: a request in flight at a kill or a timeout). **re-derived**: the same',
    '  event under a new webhook-id, from a restarted gateway that found the call in progress (it lost its memory with SIGKILL).',
    '- **not seen live**: calls whose end the gateway could not see: they ended between a SIGKILL and the restarted',
    '  gateway\'s snapshot, or inside a WebSocket gap. They still owe their final call-ended event (checked like the rest):',
    '  calls it knew survive a restart (their state is persisted with the outbox) and are ended from the PBX call log;',
    '  calls it never saw are found as gaps in the PBX\'s callid counter and announced from the call log.',
    '- **too short to see**: under added PBX latency, calls with a leg shorter than 600 ms (a few slowed fetches): they owe',
    '  their final call-ended event (from what the gateway saw, or from the call log when it saw nothing), values checked.',
    '- **phantoms**: calls still listed by `pbx.ac.get` after the simulator ended every call.',
    `- heap: V8 heap in use after a forced GC in the (last) gateway process; pass when the end is within ${HEAP_SLACK_MB} MB of the start.`,
    '',
    ...results.flatMap(({ result, problems }) => [
      ...result.notes.map((n) => `- ${result.name}: ${n}`),
      ...result.claims.map((c) => `- ${result.name} ${c.ok ? '✓' : '✗'} ${c.what} (${c.got})`),
      ...errorSummary(result).map((l) => `- ${result.name}: ${l}`),
      ...problems.map((p) => `- ${result.name} ✗ ${p.replace(/\n/g, '\n  ')}`)
    ]),
    '',
    `Verdict: ${failed ? 'FAIL' : 'every scenario passed (lost 0, phantoms 0)'}.`,
    ''
  ].join('\n')
  writeFileSync(reportPath, md)
  process.stdout.write(`report written to ${reportPath}\n`)
}
