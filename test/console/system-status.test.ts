// The console's system panel helpers: disk space and the PBX version lookup, including failures.
import t from 'tap'
import { diskSpace, pbxVersionLookup } from '../../src/console/system-status.js'
import type { XapiApi } from '../../src/pbx/pbx-api.js'

t.test('diskSpace', async (t) => {
  const dir = t.testdir()
  const ok = await diskSpace('DATA_DIR', dir)
  t.match(ok, { name: 'DATA_DIR', path: dir, error: null })
  t.ok((ok.freeBytes ?? 0) > 0 && (ok.totalBytes ?? 0) >= (ok.freeBytes ?? 0))
  t.same(await diskSpace('MP3_DIR', `${dir}/missing`), { name: 'MP3_DIR', path: `${dir}/missing`, freeBytes: null, totalBytes: null, error: 'ENOENT' })
})

t.test('pbxVersionLookup: cached, and null when the PBX does not answer', async (t) => {
  let calls = 0
  let fail = false
  const xapi = { get: async () => { calls++; if (fail) throw new Error('down'); return { Version: '20.0.3.884' } } } as unknown as XapiApi
  const cached = pbxVersionLookup({ xapi }, 60_000)
  t.equal(await cached(), '20.0.3.884')
  t.equal(await cached(), '20.0.3.884')
  t.equal(calls, 1, 'looked up once')
  fail = true
  const fresh = pbxVersionLookup({ xapi }, 0)
  t.equal(await fresh(), null)
})
