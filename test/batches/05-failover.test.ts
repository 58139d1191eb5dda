// Batch `05-failover` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('05-failover')
