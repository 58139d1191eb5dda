#!/usr/bin/env node
// `npm test`: the type check (tsc --noEmit) and tap at once. tap only strips types, so the two are
// independent; tsc uses one core, and run first it left the other idle for its ~15 s. The type
// check's output is printed after tap's; either failing fails the run (npm then skips posttest).
// When the output is not a terminal (CI, a log file), tap's failures are repeated at the very end
// (scripts/tap-failures.mjs): a log cut to its tail still says what failed. On a terminal tap's own
// reporter summarises them.
import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { failureDigest, tapFailures } from './tap-failures.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Runs a command; resolves to its exit code (1 if killed by a signal) and what it printed, if captured.
 * `onOutput`, if given, sees its standard output as it passes through to ours.
 */
function run (command, args, capture, nice = 0, onOutput = undefined) {
  return new Promise((resolve) => {
    const stdio = capture ? ['ignore', 'pipe', 'pipe'] : onOutput !== undefined ? ['inherit', 'pipe', 'inherit'] : 'inherit'
    const child = spawn(command, args, { cwd: root, stdio })
    if (nice > 0 && child.pid !== undefined) {
      try { os.setPriority(child.pid, nice) } catch {} // it ended already, or the system does not allow it
    }
    let output = ''
    if (capture) for (const stream of [child.stdout, child.stderr]) stream.on('data', (c) => { output += c })
    else if (onOutput !== undefined) {
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (c) => { process.stdout.write(c); onOutput(c) })
    }
    child.on('error', (err) => { resolve({ code: 1, output: `${output}${err.message}\n` }) })
    child.on('exit', (code) => { resolve({ code: code ?? 1, output }) })
  })
}

// The type check yields to the fault scenarios as the bulk test batches do (BULK_NICE, test/test-batches.ts).
const TYPECHECK_NICE = 5
const typecheck = run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], true, TYPECHECK_NICE)
const failures = process.stdout.isTTY ? undefined : tapFailures()
const tap = await run(process.execPath, [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), ...process.argv.slice(2)], false, 0, failures?.push)
const types = await typecheck
process.stdout.write(types.output)
console.log(types.code === 0 ? 'type check (tsc --noEmit): no errors' : 'type check (tsc --noEmit): FAILED (above)')
if (failures !== undefined) process.stdout.write(failureDigest(failures.failures()))
process.exitCode = types.code !== 0 ? types.code : tap.code
