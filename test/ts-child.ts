// How a test starts a TypeScript child process (a gateway to kill, an outbox writer): with the loader
// tap gives the test processes themselves (.taprc), so a source file loaded by both compiles to the same
// code, and the V8 coverage of the two processes merges by the same offsets. The young generation is
// sized as for the test processes (.taprc `node-arg`).

import { execFile, spawn, type ChildProcess, type ExecFileOptions, type SpawnOptions } from 'node:child_process'
import { promisify } from 'node:util'

/** Node arguments that load TypeScript: `spawn(process.execPath, [...TS_CHILD_ARGS, file])`. */
export const TS_CHILD_ARGS: readonly string[] = ['--max-semi-space-size=32', '--import', new URL('../scripts/ts-loader.mjs', import.meta.url).href]

/**
 * `env` for a child that records no coverage: tap collects coverage through @tapjs/processinfo, which
 * turns on V8's precise block coverage in every Node child unless _TAPJS_PROCESSINFO_COVERAGE_ is '0'.
 * (NODE_V8_COVERAGE, which tap does not use, would start V8's own.)
 */
export function withoutCoverage (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_V8_COVERAGE: _, ...rest } = env
  return { ...rest, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
}

/** NODE_OPTIONS without tap's processinfo import (`--import=<url>`, `--import <url>`, quoted or not); other options stay. */
export function withoutProcessinfo (nodeOptions: string | undefined): string {
  return (nodeOptions ?? '').trim().split(/\s+(?=--)/)
    .filter((o) => o !== '' && !/^--(?:import|loader|experimental-loader)[= ]\S*@tapjs[\\/]processinfo\b/.test(o.replace(/^"|"$/g, '')))
    .join(' ')
}

/**
 * Starts `node ...args` as the fault scenarios' gateways run: as in production, without tap's
 * instrumentation. tap's spawn wrapper puts @tapjs/processinfo into every Node child's NODE_OPTIONS,
 * whatever the env given (module hooks: ~0.5 s of CPU at start; then block coverage, off by
 * withoutCoverage); `env` sets NODE_OPTIONS again just before it execs Node (the same pid, file
 * descriptors and IPC channel). What these gateways run is covered by the tests that run it
 * in-process; a gateway killed with SIGKILL would write no coverage anyway. Measured 2026-12-07: see
 * docs/DEVELOPING.md.
 */
export function spawnUninstrumented (args: readonly string[], options: SpawnOptions & { env: NodeJS.ProcessEnv }): ChildProcess {
  const [command, commandArgs, env] = uninstrumented(args, options.env)
  return spawn(command, commandArgs, { ...options, env })
}

/** execFile's promise for `node ...args` run as spawnUninstrumented runs it (test fixtures whose coverage nobody measures). */
export async function execUninstrumented (args: readonly string[], options: ExecFileOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string, stderr: string }> {
  const [command, commandArgs, env] = uninstrumented(args, options.env ?? process.env)
  const { stdout, stderr } = await promisify(execFile)(command, commandArgs, { ...options, env, encoding: 'utf8' })
  return { stdout, stderr }
}

/** The command, its arguments and env that run `node ...args` without tap's instrumentation. */
function uninstrumented (args: readonly string[], given: NodeJS.ProcessEnv): [string, string[], NodeJS.ProcessEnv] {
  const env = withoutCoverage(given)
  if (process.platform === 'win32') return [process.execPath, [...args], env]
  const kept = withoutProcessinfo(env.NODE_OPTIONS)
  return ['env', [...(kept === '' ? ['-u', 'NODE_OPTIONS'] : [`NODE_OPTIONS=${kept}`]), process.execPath, ...args], env]
}
