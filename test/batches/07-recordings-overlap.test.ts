// Batch `recordings-overlap` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('recordings-overlap')
