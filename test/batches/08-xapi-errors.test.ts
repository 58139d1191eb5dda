// Batch `08-xapi-errors` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('08-xapi-errors')
