// Child process of crash.test.ts: a gateway's recordings pipeline (folder source) announcing into
// the real durable outbox, in the gateway's database. Prints "idle" when all work is done; exits on
// SIGTERM. env: DATA_DIR, RECORDINGS_DIR, LEG (JSON of an EndedLeg, optional).
import pino from 'pino'
import { openDatabase } from '../../src/store/database.js'
import { SqliteOutbox } from '../../src/store/sqlite-outbox.js'
import { loadConfig } from '../../src/config.js'
import type { XapiApi } from '../../src/pbx/pbx-api.js'
import { SqliteRecordingIndex } from '../../src/store/sqlite-recording-index.js'
import { createRecordingService } from '../../src/recordings/recording-service.js'

const config = loadConfig({
  PBX_URL: 'http://127.0.0.1:9',
  PBX_CLIENT_ID: '599',
  PBX_CLIENT_SECRET: 'unused',
  GATEWAY_KEYS: 'crash-test-key-0000000:read',
  PUBLIC_URL: 'https://gw.example.com',
  WEBHOOK_URLS: 'http://127.0.0.1:9/crm-hook',
  RECORDINGS_SOURCE: 'dir',
  RECORDINGS_DIR: process.env.RECORDINGS_DIR,
  DATA_DIR: process.env.DATA_DIR,
  FFMPEG_CONCURRENCY: '1'
})
const db = openDatabase(config.dataDir)
const outbox = new SqliteOutbox(db, { targets: config.webhooks.targets })
const service = createRecordingService({
  config,
  index: () => new SqliteRecordingIndex(db),
  xapi: {} as XapiApi, // the folder source never asks XAPI
  announce: (event) => { outbox.enqueue(event) },
  log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  pollMs: 50,
  lookEveryMs: 50,
  timing: { settleMs: 0, giveUpMs: 5_000 },
  stableMs: 100
})
if (service === null) throw new Error('recordings off')
await service.start()
if (process.env.LEG !== undefined && process.env.LEG !== '') service.onLegEnded(JSON.parse(process.env.LEG))
process.on('SIGTERM', () => { void service.stop(5_000).then(() => { service.index.close(); process.exit(0) }) })
await new Promise((resolve) => setTimeout(resolve, 300))
if (await service.idle(30_000)) process.stdout.write('idle\n')
