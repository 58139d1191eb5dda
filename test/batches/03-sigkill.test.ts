// Batch `03-sigkill` of test/test-batches.ts, in one process.
import { runBatch } from '../batch-runner.js'

await runBatch('03-sigkill')
