// Batch `10-disk-full` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('10-disk-full')
