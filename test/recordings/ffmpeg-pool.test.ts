import t from 'tap'
import { readdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ConversionError, FfmpegPool, mp3Args, PoolClosedError, resolveFfmpegPath } from '../../src/recordings/ffmpeg-pool.js'
import { parseProbeOutput, probeAudio } from '../../src/recordings/audio-probe.js'
import { bareConversionCommand, timePoolConversion } from '../../src/recordings/conversion-timing.js'
import { tempDir, writeWav } from './wav-fixture.js'

const ffmpeg = resolveFfmpegPath('')

t.test('converts a WAV to a mono MP3 of the same duration, atomically', async (t) => {
  const dir = await tempDir(t)
  const wav = await writeWav(path.join(dir, 'in.wav'), 3.5)
  const pool = new FfmpegPool({ ffmpegPath: ffmpeg, concurrency: 1, bitrateKbps: 32 })
  const out = path.join(dir, 'mp3', 'x-1.mp3')
  const r = await pool.convert(wav, out)
  t.equal(r.mp3Path, out)
  t.ok(r.bytes > 10_000, 'about 14 KB at 32 kbit/s')
  const probe = await probeAudio(ffmpeg, out)
  t.equal(probe.codec, 'mp3')
  t.equal(probe.channels, 1)
  t.ok(Math.abs(probe.durationS - 3.5) < 0.15, `duration ${probe.durationS}`)
  t.same(await readdir(path.join(dir, 'mp3')), ['x-1.mp3'], 'no partial file left')
  t.equal(await pool.drain(1000), true)
})

t.test('never runs more processes than the concurrency', async (t) => {
  const dir = await tempDir(t)
  const wav = await writeWav(path.join(dir, 'in.wav'), 20)
  const pool = new FfmpegPool({ ffmpegPath: ffmpeg, concurrency: 2, bitrateKbps: 32 })
  let maxActive = 0
  const watch = setInterval(() => { maxActive = Math.max(maxActive, pool.active) }, 2)
  const jobs = [1, 2, 3, 4, 5].map(async (i) => await pool.convert(wav, path.join(dir, `o${i}.mp3`)))
  t.equal(pool.active, 2)
  t.equal(pool.queued, 3)
  await Promise.all(jobs)
  clearInterval(watch)
  t.equal(maxActive, 2)
  t.equal((await readdir(dir)).filter((f) => f.endsWith('.mp3')).length, 5)
})

t.test('an unreadable WAV fails with the reason and does not stop the pool', async (t) => {
  const dir = await tempDir(t)
  const bad = path.join(dir, 'bad.wav')
  await writeFile(bad, 'this is not audio')
  const good = await writeWav(path.join(dir, 'good.wav'), 1)
  const pool = new FfmpegPool({ ffmpegPath: ffmpeg, concurrency: 1, bitrateKbps: 32 })
  const [a, b] = await Promise.allSettled([pool.convert(bad, path.join(dir, 'bad.mp3')), pool.convert(good, path.join(dir, 'good.mp3'))])
  t.equal(a.status, 'rejected')
  const err = (a as PromiseRejectedResult).reason as ConversionError
  t.type(err, ConversionError)
  t.match(err.reason, /Invalid data found/)
  t.equal(b.status, 'fulfilled')
  t.same((await readdir(dir)).sort(), ['bad.wav', 'good.mp3', 'good.wav'], 'no MP3 for the bad file, no partial left')
})

t.test('a missing ffmpeg binary is a clear conversion error', async (t) => {
  const pool = new FfmpegPool({ ffmpegPath: '/nonexistent/ffmpeg', concurrency: 1, bitrateKbps: 32 })
  await t.rejects(pool.convert('/tmp/x.wav', path.join(os.tmpdir(), 'never.mp3')), { name: 'ConversionError', message: /cannot run ffmpeg/ })
})

t.test('drain: queued work is refused, running work finishes, later work is refused', async (t) => {
  const dir = await tempDir(t)
  const wav = await writeWav(path.join(dir, 'in.wav'), 10)
  const pool = new FfmpegPool({ ffmpegPath: ffmpeg, concurrency: 1, bitrateKbps: 32 })
  const running = pool.convert(wav, path.join(dir, 'a.mp3'))
  const queued = pool.convert(wav, path.join(dir, 'b.mp3'))
  const drained = pool.drain(20_000)
  await t.rejects(queued, PoolClosedError)
  await t.resolves(running)
  t.equal(await drained, true)
  await t.rejects(pool.convert(wav, path.join(dir, 'c.mp3')), PoolClosedError)
})

t.test('drain past its bound kills the running conversion', async (t) => {
  const dir = await tempDir(t)
  const wav = await writeWav(path.join(dir, 'in.wav'), 600)
  const pool = new FfmpegPool({ ffmpegPath: ffmpeg, concurrency: 1, bitrateKbps: 32 })
  const running = pool.convert(wav, path.join(dir, 'a.mp3'))
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await pool.drain(1), false)
  await t.rejects(running, { name: 'ConversionError', message: /drain timed out/ })
  t.same((await readdir(dir)).sort(), ['in.wav'], 'partial file removed')
})

t.test('ffmpeg arguments: mono, bit rate, mp3 format whatever the file name', async (t) => {
  const args = mp3Args('in.wav', 'out.partial', { bitrateKbps: 24 })
  t.match(args.join(' '), /-ac 1 .*-b:a 24k -f mp3 out\.partial$/)
  t.ok(args.includes('-nostdin'))
})

t.test('probe output parsing', async (t) => {
  t.same(parseProbeOutput('Input #0, mp3\n    Stream #0:0: Audio: mp3, 8000 Hz, mono, fltp, 32 kb/s\nsize=N/A time=00:01:02.50 bitrate=N/A\n'),
    { codec: 'mp3', sampleRate: 8000, channels: 1, durationS: 62.5 })
  t.equal(parseProbeOutput('garbage'), null)
  await t.rejects(probeAudio(ffmpeg, '/nonexistent.wav'), /no audio stream/)
})

t.test('benchmark helpers', async (t) => {
  const dir = await tempDir(t)
  const wav = await writeWav(path.join(dir, 'in.wav'), 2)
  const timing = await timePoolConversion(wav)
  t.ok(timing.elapsedMs > 0 && timing.bytes > 0)
  const cmd = bareConversionCommand(wav, path.join(dir, 'bare.mp3'))
  t.equal(cmd.file, ffmpeg)
  t.equal(cmd.args.at(-1), path.join(dir, 'bare.mp3'))
})
