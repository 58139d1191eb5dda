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
