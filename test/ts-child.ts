// How a test starts a TypeScript child process (a gateway to kill, an outbox writer): with the loader
// tap gives the test processes themselves (.taprc), so a source file loaded by both compiles to the same
// code, and the V8 coverage of the two processes merges by the same offsets. The young generation is
// sized as for the test processes (.taprc `node-arg`).

/** Node arguments that load TypeScript: `spawn(process.execPath, [...TS_CHILD_ARGS, file])`. */
export const TS_CHILD_ARGS: readonly string[] = ['--max-semi-space-size=32', '--import', new URL('../scripts/ts-loader.mjs', import.meta.url).href]

/**
 * `env` for a child that records no coverage: for the gateways of the fault scenarios, judged by the
 * clock. tap collects coverage through @tapjs/processinfo, which it loads into every Node child a test
 * starts (its spawn wrapper adds its import to NODE_OPTIONS, whatever the env says) and which turns on
 * V8's precise block coverage unless _TAPJS_PROCESSINFO_COVERAGE_ is '0'. (NODE_V8_COVERAGE, which tap
 * does not use, would start V8's own.) A gateway killed with SIGKILL writes none anyway, and what they
 * run is covered by the tests that run it in-process. Measured 2026-12-07: see docs/DEVELOPING.md.
 */
export function withoutCoverage (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _, ...rest } = env
  return { ...rest, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
}
