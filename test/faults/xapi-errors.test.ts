// Fault suite, CI size (see test/faults/lib/scenarios.ts; the long form is npm run test:faults).
import t from 'tap'
import { runScenarioTest } from './scenario-test.js'

t.setTimeout(150_000)
t.test('20% XAPI errors and 200 ms latency under traffic', async (t) => { await runScenarioTest(t, 2) })
