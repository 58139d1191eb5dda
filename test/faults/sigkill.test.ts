// Fault suite, CI size (see test/faults/lib/scenarios.ts; the long form is npm run test:faults).
import t from 'tap'
import { runScenarioTest } from './scenario-test.js'

t.setTimeout(150_000)
t.test('the gateway killed with SIGKILL three times under traffic (five in the long form)', async (t) => { await runScenarioTest(t, 0) })
