// Fault suite, CI size: gateway.db on a full disk, and a damaged gateway.db (see test/faults/lib/scenarios.ts).
import t from 'tap'
import { runScenarioTest } from './scenario-test.js'

t.setTimeout(240_000)
t.test('DATA_DIR full: the gateway stays up, /readyz names the file, nothing lost once space returns', async (t) => { await runScenarioTest(t, 5) })
t.test('DATA_DIR corrupted: the gateway refuses to start naming the file; moved aside, it starts fresh', async (t) => { await runScenarioTest(t, 6) })
