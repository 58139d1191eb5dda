#!/usr/bin/env node
// `npm run test:second-pbx`: the gateway-facing test files written with the number map of
// test/sim/pbx-under-test.ts, run on the branch office (SIM_PBX=pbx/branch-office.yaml). The list below is
// the one place that names them (docs/simulator.md points here); `npm test` runs them on the default PBX.
// Usage: node scripts/second-pbx.mjs [extra tap arguments]
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Test files that pass on both shipped PBXs (pbx/default.yaml and pbx/branch-office.yaml). */
export const SECOND_PBX_FILES = [
  'test/calls/end-to-end.test.ts',
  'test/calls/gateway-sequences.test.ts',
  'test/calls/call-recovery.test.ts',
  'test/calls/did-map.test.ts',
  'test/calls/gap-times.test.ts',
  'test/routes/legacy-setters.test.ts',
  'test/reports/reports-routes.test.ts',
  'test/reports/export-command.test.ts',
  'test/routes/legacy-fuzz.test.ts',
  'test/routes/input-rules.test.ts',
  'test/fuzz/routes-fuzz.test.ts',
  'test/lifecycle.test.ts',
  'test/state-origin.test.ts',
  'test/origin-watch.test.ts',
  'test/security.test.ts',
  'test/store/pg/pg-gateway.test.ts',
  'test/replicas/standby.test.ts',
  'test/replicas/recordings.test.ts',
  'test/doctor.test.ts',
  'test/pbx/token-manager.test.ts',
  'test/pbx/callcontrol-socket.test.ts',
  'test/routes/legacy-live.test.ts',
  'test/recordings/pipeline-xapi.test.ts',
  'test/recordings/pipeline-dir.test.ts'
]

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  const tap = path.join(root, 'node_modules', '.bin', 'tap')
  const run = spawnSync(tap, ['--disable-coverage', ...SECOND_PBX_FILES, ...process.argv.slice(2)], {
    cwd: root, stdio: 'inherit', env: { ...process.env, SIM_PBX: path.join(root, 'pbx', 'branch-office.yaml') }
  })
  process.exit(run.status ?? 1)
}
