// How a test starts a TypeScript child process (a gateway to kill, an outbox writer): with the loader
// tap gives the test processes themselves (.taprc), so a source file loaded by both compiles to the same
// code, and the V8 coverage of the two processes merges by the same offsets. The young generation is
// sized as for the test processes (.taprc `node-arg`).

/** Node arguments that load TypeScript: `spawn(process.execPath, [...TS_CHILD_ARGS, file])`. */
export const TS_CHILD_ARGS: readonly string[] = ['--max-semi-space-size=32', '--import', new URL('../scripts/ts-loader.mjs', import.meta.url).href]
