// Batch `11-console-browser` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('11-console-browser')
