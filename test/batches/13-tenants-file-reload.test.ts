// Batch `13-tenants-file-reload` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('13-tenants-file-reload')
