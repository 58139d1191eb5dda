// What an audio file really contains, as ffmpeg decodes it (the installer ships ffmpeg but no
// ffprobe). Decoding the whole file gives the true duration, not the header's estimate.
import { spawn } from 'node:child_process'

export interface AudioProbe {
  /** Codec name as ffmpeg reports it: `mp3`, `pcm_s16le`, … */
  codec: string
  sampleRate: number
  channels: number
  /** Decoded duration in seconds. */
  durationS: number
}

/** Parses the stderr of `ffmpeg -i FILE -f null -`; null when it holds no audio stream. */
export function parseProbeOutput (stderr: string): AudioProbe | null {
  const stream = /Stream #\d+:\d+[^:]*: Audio: ([\w-]+)[^,\n]*, (\d+) Hz, (mono|stereo|\d+ channels)/.exec(stderr)
  if (stream === null) return null
  const times = [...stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)]
  const last = times.at(-1)
  const durationS = last === undefined ? 0 : Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3])
  const layout = stream[3]
  const channels = layout === 'mono' ? 1 : layout === 'stereo' ? 2 : Number.parseInt(layout, 10)
  return { codec: stream[1], sampleRate: Number(stream[2]), channels, durationS }
}

export async function probeAudio (ffmpegPath: string, file: string): Promise<AudioProbe> {
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(ffmpegPath, ['-hide_banner', '-nostdin', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let out = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c: string) => { out += c })
    child.on('error', reject)
    child.on('close', () => resolve(out))
  })
  const probe = parseProbeOutput(stderr)
  if (probe === null) throw new Error(`no audio stream in ${file}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`)
  return probe
}
