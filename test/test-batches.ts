// Which test files share a process. Starting a test process costs about 1 s of CPU (Node, tap, the
// TypeScript loader, V8 coverage) and loading the gateway and the simulator about 1 s more, while most
// files then run for a second or two: one process per file spent more than half of `npm test`'s CPU on
// starting. So tap runs the batches below (.taprc includes test/batches/*.test.ts only), each in one
// process; a batch runs its files one after another (test/batch-runner.ts), each inside a subtest of
// its own with its own teardowns and timeout. `npx tap FILE` still runs any one file alone.
// test/test-batches.test.ts checks that every test file runs exactly once.
//
// tap starts the batch files in name order, so the long fault scenarios, which mostly wait on timers
// and child processes, have numbered names: they start first and run beside the CPU-bound batches.

/** Batch name → its files (globs from the project's root; a file in a numbered batch is left out of the others). */
export const BATCHES: Record<string, readonly string[]> = {
  '01-tenant-faults': ['test/replicas/tenant-faults.test.ts'],
  '02-data-dir': ['test/faults/data-dir.test.ts'],
  '03-sigkill': ['test/faults/sigkill.test.ts'],
  '04-recordings-overlap': ['test/faults/recordings-overlap.test.ts'],
  '05-failover': ['test/replicas/failover.test.ts'],
  '06-production': ['test/production.test.ts'],
  '07-pbx-faults': ['test/faults/pbx-faults.test.ts'],
  '08-xapi-errors': ['test/faults/xapi-errors.test.ts'],
  '09-receiver-faults': ['test/faults/receiver-faults.test.ts'],
  '10-disk-full': ['test/faults/disk-full.test.ts'],
  '11-console-browser': ['test/console/console-browser.test.ts'],
  // These send the process SIGHUP; tap's signal-exit may then end a shared process (it re-raises a
  // signal it takes to be unhandled), so each has a process of its own.
  '12-tenant-table-source': ['test/tenants/tenant-table-source.test.ts'],
  '13-tenants-file-reload': ['test/tenants/tenants-file-reload.test.ts'],
  calls: ['test/calls/*.test.ts'],
  delivery: ['test/webhooks/*.test.ts', 'test/pbx/*.test.ts', 'test/faults/*.test.ts'],
  gateway: ['test/plugins/*.test.ts', 'test/routes/*.test.ts', 'test/legacy/*.test.ts', 'test/console/*.test.ts', 'test/fuzz/*.test.ts', 'test/examples/*.test.ts'],
  recordings: ['test/recordings/*.test.ts'],
  reports: ['test/reports/*.test.ts', 'test/store/*.test.ts'],
  'replicas-pg': ['test/replicas/*.test.ts', 'test/store/pg/*.test.ts'],
  sim: ['test/sim/*.test.ts'],
  tenants: ['test/tenants/*.test.ts'],
  top: ['test/*.test.ts']
}
