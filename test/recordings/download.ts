// Downloads a recording link over a real socket and probes the MP3 with the bundled ffmpeg.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { probeAudio, type AudioProbe } from '../../src/recordings/audio-probe.js'
import { resolveFfmpegPath } from '../../src/recordings/ffmpeg-pool.js'

export async function downloadAndProbe (url: string): Promise<AudioProbe & { bytes: number, contentType: string | null }> {
  const res = await fetch(url)
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`)
  const body = Buffer.from(await res.arrayBuffer())
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rec-dl-'))
  try {
    const file = path.join(dir, 'x.mp3')
    await writeFile(file, body)
    return { ...await probeAudio(resolveFfmpegPath(''), file), bytes: body.length, contentType: res.headers.get('content-type') }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The frequency of the first beep of an audio file (the simulator's tones: callToneHz), decoded with
 * the bundled ffmpeg to 8 kHz PCM and measured by zero crossings over the loud samples.
 */
export async function firstToneHz (file: string): Promise<number> {
  const { execFile } = await import('node:child_process')
  const pcm = await new Promise<Buffer>((resolve, reject) => {
    execFile(resolveFfmpegPath(''), ['-v', 'error', '-i', file, '-t', '0.8', '-f', 's16le', '-ac', '1', '-ar', '8000', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 }, (err, out) => {
      if (err !== null) reject(err)
      else resolve(out)
    })
  })
  const samples: number[] = []
  for (let i = 0; i + 1 < pcm.length; i += 2) samples.push(pcm.readInt16LE(i))
  const loud = samples.map((v, i) => ({ v, i })).filter((s) => Math.abs(s.v) > 500)
  if (loud.length < 800) throw new Error(`${file}: no tone in its first 0.8 s`)
  const first = loud[0].i
  const last = loud[loud.length - 1].i
  let crossings = 0
  for (let i = first + 1; i <= last; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) crossings++
  return crossings / 2 / ((last - first) / 8000)
}
