// `t` for a test file run in a batch (test/batch-runner.ts). test/batch-hooks.mjs makes `import t from
// 'tap'` in test code resolve here in a batch process; every use then goes to the subtest the batch
// made for the file being run, so the file's top-level tests, teardowns, timeouts and `t.jobs` are its
// own, as when tap runs the file in a process of its own. Files run one after another, so the file
// being run is the only one whose tests are running.
import tap, { type Test } from 'tap'

let current: Test = tap
let inBatch = false

/** The batch runner, before anything else: this process runs a batch. */
export function enterBatch (): void { inBatch = true }

/** The batch runner: the file starting now uses `test` as its `t`. */
export function runningFile (test: Test): void {
  current = test
}

/** Whether this process runs a batch of files (not one file as tap's own root test). */
export function batched (): boolean { return inBatch }

/** tap's root test of the process (the batch's). */
export const root = tap

const t = new Proxy({}, {
  get (_target, key) {
    const value: unknown = Reflect.get(current, key)
    return typeof value === 'function' ? value.bind(current) : value
  },
  set (_target, key, value) { return Reflect.set(current, key, value) },
  has (_target, key) { return Reflect.has(current, key) }
}) as typeof tap

export default t
