// Batch `tenants-file-reload` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('tenants-file-reload')
