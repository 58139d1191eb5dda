// Which test files share a process. Starting a test process costs about 1 s of CPU (Node, tap, the
// TypeScript loader, V8 coverage) and loading the gateway and the simulator about 1 s more, while most
// files then run for a second or two: one process per file spent more than half of `npm test`'s CPU on
// starting. So tap runs the batches below (.taprc includes test/batches/*.test.ts only), each in one
// process; a batch runs its files one after another (test/batch-runner.ts), each inside a subtest of
// its own with its own teardowns and timeout. `npx tap FILE` still runs any one file alone.
// test/test-batches.test.ts checks that every test file runs exactly once.
//
// tap starts the batch files in name order, and a batch's file is named by its place here
// (test/batches/NN-name.test.ts). The order alternates the long fault scenarios, which mostly wait on
// timers and child processes, with the batches that keep a core busy, so both run side by side.

/**
 * The batches in the order tap starts them: name → its files (globs from the project's root). A file
 * named exactly (no `*`) runs in that batch only; a glob takes the files no batch names exactly.
 */
export const BATCHES: ReadonlyArray<readonly [name: string, files: readonly string[]]> = [
  ['tenant-faults', ['test/replicas/tenant-faults.test.ts']],
  ['sim', ['test/sim/*.test.ts']],
  ['data-dir', ['test/faults/data-dir.test.ts']],
  ['gateway', ['test/plugins/*.test.ts', 'test/routes/*.test.ts', 'test/legacy/*.test.ts', 'test/console/*.test.ts', 'test/fuzz/*.test.ts', 'test/examples/*.test.ts']],
  ['sigkill', ['test/faults/sigkill.test.ts']],
  ['pg', ['test/store/pg/*.test.ts']],
  ['recordings-overlap', ['test/faults/recordings-overlap.test.ts']],
  ['top', ['test/*.test.ts']],
  ['failover', ['test/replicas/failover.test.ts']],
  ['calls', ['test/calls/*.test.ts']],
  ['production', ['test/production.test.ts']],
  ['tenants', ['test/tenants/*.test.ts']],
  ['pbx-faults', ['test/faults/pbx-faults.test.ts']],
  ['replicas', ['test/replicas/*.test.ts']],
  ['xapi-errors', ['test/faults/xapi-errors.test.ts']],
  ['delivery', ['test/webhooks/*.test.ts', 'test/pbx/*.test.ts', 'test/faults/*.test.ts']],
  ['receiver-faults', ['test/faults/receiver-faults.test.ts']],
  ['reports', ['test/reports/*.test.ts', 'test/store/*.test.ts']],
  ['disk-full', ['test/faults/disk-full.test.ts']],
  ['recordings', ['test/recordings/*.test.ts']],
  ['console-browser', ['test/console/console-browser.test.ts']],
  // These send the process SIGHUP; tap's signal-exit may then end a shared process (it re-raises a
  // signal it takes to be unhandled), so each has a process of its own.
  ['tenant-table-source', ['test/tenants/tenant-table-source.test.ts']],
  ['tenants-file-reload', ['test/tenants/tenants-file-reload.test.ts']]
]

/**
 * The fault scenarios: batches that run gateways as child processes and judge them by the clock (a
 * take-over within 10 s, a call dated from its start, an end within its grace period). The other
 * batches keep the cores busy with work whose speed no test judges, so they run at a lower priority
 * (BULK_NICE): when both cores are taken, a scenario's gateway gets the CPU first, as a production
 * gateway would have it, instead of an even share with three test processes and the type check.
 * Measured 2026-12-07, before: two whole runs of 2, each failed in fault scenarios by a gateway that
 * saw a change 1–2.4 s late (tenant-faults, data-dir, a live-call route test).
 */
export const TIMED_BATCHES: ReadonlySet<string> = new Set([
  'tenant-faults', 'data-dir', 'sigkill', 'recordings-overlap', 'failover', 'pbx-faults', 'xapi-errors', 'receiver-faults', 'disk-full'
])

/** How much the other batches (and the type check, scripts/test.mjs) lower their priority: nice 5 weighs ~1/3 of nice 0. */
export const BULK_NICE = 5

/** The niceness batch `name` runs at (its child processes inherit it). */
export function batchNice (name: string): number {
  return TIMED_BATCHES.has(name) ? 0 : BULK_NICE
}

/** The file tap runs for a batch: its place and name. */
export function batchFile (name: string): string {
  const place = BATCHES.findIndex(([n]) => n === name)
  if (place < 0) throw new Error(`no batch "${name}" in test/test-batches.ts`)
  return `test/batches/${String(place + 1).padStart(2, '0')}-${name}.test.ts`
}
