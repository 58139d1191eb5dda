// How a test starts a TypeScript child process (a gateway to kill, an outbox writer): with the loader
// tap gives the test processes themselves (.taprc), so a source file loaded by both compiles to the same
// code, and the V8 coverage of the two processes merges by the same offsets. The young generation is
// sized as for the test processes (.taprc `node-arg`).

/** Node arguments that load TypeScript: `spawn(process.execPath, [...TS_CHILD_ARGS, file])`. */
export const TS_CHILD_ARGS: readonly string[] = ['--max-semi-space-size=32', '--import', new URL('../scripts/ts-loader.mjs', import.meta.url).href]

/**
 * `env` without NODE_V8_COVERAGE (which tap sets and children inherit): for the gateways of the fault
 * scenarios, judged by the clock. V8's block coverage costs a process about a fifth more CPU
 * (measured 2026-12-07: 15.7 s against 12.7 s for the reports batch), and a gateway killed with
 * SIGKILL writes none anyway; what they run is covered by the tests that run it in-process.
 */
export function withoutCoverage (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _, ...rest } = env
  return rest
}
