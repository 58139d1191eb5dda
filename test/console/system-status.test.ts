// The console's system panel: free disk space, and a path that cannot be read.
import t from 'tap'
import { diskSpace } from '../../src/console/system-status.js'

t.test('diskSpace', async (t) => {
  const dir = t.testdir()
  const ok = await diskSpace('DATA_DIR', dir)
  t.match(ok, { name: 'DATA_DIR', path: dir, error: null })
  t.ok((ok.freeBytes ?? 0) > 0 && (ok.totalBytes ?? 0) >= (ok.freeBytes ?? 0))
  t.same(await diskSpace('MP3_DIR', `${dir}/missing`), { name: 'MP3_DIR', path: `${dir}/missing`, freeBytes: null, totalBytes: null, error: 'ENOENT' })
})
