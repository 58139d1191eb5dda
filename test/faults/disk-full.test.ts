// Fault suite, CI size (see test/faults/lib/scenarios.ts; the long form is npm run test:faults).
import t from 'tap'
import { runScenarioTest } from './scenario-test.js'

t.setTimeout(150_000)
t.test('an unusable MP3_DIR: recordings fail, events keep flowing', async (t) => { await runScenarioTest(t, 4) })

// Regression: @fastify/static threw ENOTDIR at registration, so a bad MP3_DIR stopped the whole gateway.
t.test('the recordings routes register when MP3_DIR is below a regular file', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs')
  const os = await import('node:os')
  const path = await import('node:path')
  const Fastify = (await import('fastify')).default
  const recordingRoutes = (await import('../../routes/recordings.js')).default
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-notadir-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  writeFileSync(path.join(dir, 'file'), 'x')
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  await app.register(recordingRoutes, { files: { mp3Dir: path.join(dir, 'file', 'mp3'), index: { byToken: () => null, byFileName: () => null } as never }, legacyKeyCheck: async () => {} })
  const r = await app.inject({ url: `/recordings/${'a'.repeat(32)}/250301100000_42-1-1.mp3` })
  t.equal(r.statusCode, 404)
})
