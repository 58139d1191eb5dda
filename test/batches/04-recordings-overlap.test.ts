// Batch `04-recordings-overlap` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('04-recordings-overlap')
