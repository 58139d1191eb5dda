// Which download failures XapiRecordingSource leaves for a later try (the service retries those on
// a schedule) and which are final. The XAPI side is a stub of the XapiApi interface: the simulator
// answers injected faults with a random status, and this is about the decision, not the transport.
import t from 'tap'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { XapiRecordingSource } from '../../src/recordings/xapi-source.js'
import { TransientSourceError } from '../../src/recordings/recording-source.js'
import { PbxError, type XapiApi } from '../../src/pbx/pbx-api.js'
import type { RecordingRow } from '../../src/recordings/recording-index.js'

const row: RecordingRow = {
  id: 1, legKey: '101#3', sourceRef: 'xapi:42', seq: 1, fileName: '261121083716_7-1-1.mp3', token: 'x', wavPath: null,
  xapiId: 42, recordedAt: 0, state: 'pending', error: null, bytes: null
}

function failingWith (err: Error): XapiApi {
  return { download: async () => { throw err } } as unknown as XapiApi
}

t.test('download failures: the PBX\'s own trouble is retried later, a refusal is final', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-xapi-source-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const transient = [
    new PbxError('PBX_BAD_VALUE', 'the PBX answered 500 to a function call', 502, 500),
    new PbxError('PBX_ERROR', 'the PBX answered 503', 502, 503),
    new PbxError('PBX_TIMEOUT', 'timed out', 504),
    new Error('socket hang up')
  ]
  for (const err of transient) {
    await t.rejects(new XapiRecordingSource(failingWith(err)).fetchWav(row, dir), TransientSourceError, err.message)
  }
  const forbidden = new PbxError('PBX_FORBIDDEN', 'forbidden (403)', 502, 403)
  await t.rejects(new XapiRecordingSource(failingWith(forbidden)).fetchWav(row, dir), forbidden, 'a 403 needs the admin, not a retry')
  t.same(readdirSync(dir), [], 'no partial file left behind')
})
