// Batch `tenant-table-source` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('tenant-table-source')
