// Worker `timed-1` of test/test-batches.ts: runs what it takes from its queues.
import { runBatch } from '../batch-runner.js'

await runBatch('timed-1')
