import t from 'tap'
import { PassThrough } from 'node:stream'
import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { loadConfig } from '../../src/config.js'
import { runRecordingsConvert } from '../../src/recordings/convert-command.js'
import { tempDir, writeWav } from './wav-fixture.js'

function io (): { io: { stdout: PassThrough, stderr: PassThrough }, out: () => string, err: () => string } {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let o = ''
  let e = ''
  stdout.on('data', (c: Buffer) => { o += c.toString() })
  stderr.on('data', (c: Buffer) => { e += c.toString() })
  return { io: { stdout, stderr }, out: () => o, err: () => e }
}

t.test('converts an archive, resumes, reports failures', async (t) => {
  const dir = await tempDir(t)
  const src = path.join(dir, 'archive')
  await writeWav(path.join(src, '101', 'a_+1555_20250101120000_1.wav'), 1)
  await writeWav(path.join(src, '102', 'b_+1555_20250101120500_2.wav'), 1)
  const config = loadConfig({ DATA_DIR: path.join(dir, 'data'), RECORDINGS_SOURCE: 'off' })
  const out = path.join(dir, 'out')

  const first = io()
  t.equal(await runRecordingsConvert(config, [src, '--out', out], first.io), 0, first.err())
  t.match(first.out(), /2 WAV file\(s\).*0 already converted, 2 to convert/)
  t.match(first.out(), /converted 2, skipped 0, failed 0/)
  t.same(await readdir(path.join(out, '101')), ['a_+1555_20250101120000_1.mp3'])

  await writeFile(path.join(src, '103-broken.wav'), 'not audio')
  const second = io()
  t.equal(await runRecordingsConvert(config, [src, '--out', out], second.io), 1)
  t.match(second.out(), /converted 0, skipped 2, failed 1/)
  t.match(second.err(), /failed: 103-broken\.wav: .*Invalid data/)

  const bad = io()
  t.equal(await runRecordingsConvert(config, [], bad.io), 2)
  t.match(bad.err(), /usage/)
  t.equal(await runRecordingsConvert(config, [path.join(dir, 'nope')], bad.io), 2)
  t.match(bad.err(), /is not a folder/)
  t.equal(await runRecordingsConvert(config, [src, '--concurrency', '0'], bad.io), 2)
  t.equal(await runRecordingsConvert(config, [src, '--bogus'], bad.io), 2)
})
