// Which test files share a process. Starting a test process costs about 1 s of CPU (Node, tap, the
// TypeScript loader, V8 coverage) and loading the gateway and the simulator about 1 s more, while most
// files then run for a second or two: one process per file spent more than half of `npm test`'s CPU on
// starting. So tap runs a few long-lived processes (.taprc includes test/batches/*.test.ts only), each
// running files one after another (test/batch-runner.ts), each file inside a subtest of its own with its
// own teardowns and timeout. `npx tap FILE` still runs any one file alone.
// test/test-batches.test.ts checks that every test file runs exactly once.
//
// Most processes are workers on a shared queue: each takes the next file nobody has taken, longest first
// (test/file-durations.json), so the processes end together instead of one fixed batch running on
// alone at the end. Measured 2026-12-07 against 23 fixed batches: see docs/DEVELOPING.md.

/** A queue of files that workers share: the fault scenarios, or everything else. */
export type QueueName = 'timed' | 'bulk'

/** A process tap runs: a fixed list of files, or a worker on queues, in the order it serves them. */
export type BatchPlan = { readonly files: readonly string[] } | { readonly queues: readonly QueueName[] }

/**
 * The fault scenarios: files that run gateways as child processes and judge them by the clock (a
 * take-over within 10 s, a call dated from its start, an end within its grace period). The other files
 * keep the cores busy with work whose speed no test judges, so they run at a lower priority
 * (BULK_NICE): when both cores are taken, a scenario's gateway gets the CPU first, as a production
 * gateway would have it, instead of an even share with the other test processes and the type check.
 * Measured 2026-12-07, before: two whole runs of 2, each failed in fault scenarios by a gateway that
 * saw a change 1–2.4 s late (tenant-faults, data-dir, a live-call route test).
 */
export const TIMED_FILES: readonly string[] = [
  'test/replicas/tenant-faults.test.ts',
  'test/faults/data-dir.test.ts',
  'test/faults/sigkill.test.ts',
  'test/faults/recordings-overlap.test.ts',
  'test/replicas/failover.test.ts',
  'test/faults/pbx-faults.test.ts',
  'test/faults/xapi-errors.test.ts',
  'test/faults/receiver-faults.test.ts',
  'test/faults/disk-full.test.ts'
]

/**
 * The processes in the order tap starts them (test/batches/NN-name.test.ts, NN its place here). The
 * two timed workers serve the fault scenarios at normal priority, then help with the rest at
 * BULK_NICE; the bulk workers never take a fault scenario (they would run it at their low priority).
 */
export const BATCHES: ReadonlyArray<readonly [name: string, plan: BatchPlan]> = [
  // These send the process SIGHUP; tap's signal-exit may then end a shared process (it re-raises a
  // signal it takes to be unhandled), so each has a process of its own. First, as they are short.
  ['tenant-table-source', { files: ['test/tenants/tenant-table-source.test.ts'] }],
  ['tenants-file-reload', { files: ['test/tenants/tenants-file-reload.test.ts'] }],
  ['timed-1', { queues: ['timed', 'bulk'] }],
  ['timed-2', { queues: ['timed', 'bulk'] }],
  ['bulk-1', { queues: ['bulk'] }],
  ['bulk-2', { queues: ['bulk'] }],
  ['bulk-3', { queues: ['bulk'] }]
]

/** How much the bulk work (and the type check, scripts/test.mjs) lowers its priority: nice 5 weighs ~1/3 of nice 0. */
export const BULK_NICE = 5

/** The niceness a queue's files run at (child processes inherit it). */
export function queueNice (queue: QueueName): number {
  return queue === 'timed' ? 0 : BULK_NICE
}

/** The file tap runs for a batch: its place and name. */
export function batchFile (name: string): string {
  const place = BATCHES.findIndex(([n]) => n === name)
  if (place < 0) throw new Error(`no batch "${name}" in test/test-batches.ts`)
  return `test/batches/${String(place + 1).padStart(2, '0')}-${name}.test.ts`
}

/** Seconds assumed for a file test/file-durations.json does not know yet (a new file). */
export const UNKNOWN_FILE_SECONDS = 3

/** `files` longest first by `seconds` (unknown files as UNKNOWN_FILE_SECONDS), ties by path. */
export function longestFirst (files: readonly string[], seconds: Readonly<Record<string, number>>): string[] {
  const of = (f: string): number => seconds[f] ?? UNKNOWN_FILE_SECONDS
  return [...files].sort((a, b) => of(b) - of(a) || (a < b ? -1 : a > b ? 1 : 0))
}
