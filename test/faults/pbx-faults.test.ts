// Fault suite, CI size (see test/faults/lib/scenarios.ts; the long form is npm run test:faults).
import t from 'tap'
import { runScenarioTest } from './scenario-test.js'

t.setTimeout(150_000)
t.test('WebSocket drops, the PBX down, tokens revoked, under traffic', async (t) => { await runScenarioTest(t, 1) })
