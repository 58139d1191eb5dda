// Fault suite, CI size: recorded calls overlapping on one extension; each MP3 must be its own call's audio.
import t from 'tap'
import { runScenarioTest } from './scenario-test.js'

t.setTimeout(200_000)
t.test('overlapping recorded calls on one extension', async (t) => { await runScenarioTest(t, 7) })
