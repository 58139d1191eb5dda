// Where the console's static page is looked for: next to src/ (tsx) or next to dist/ (the build).
import t from 'tap'
import { publicDir } from '../../src/console/index.js'

t.test('publicDir: found next to src/, null where it is not installed', async (t) => {
  t.match(publicDir(), /public\/$/)
  t.equal(publicDir(`file://${t.testdir()}/dist/src/console/index.js`), null)
})
