// MP3 conversion: a one-hour 8 kHz mono WAV (written by the simulator's WAV writer into
// bench/tmp/) through the gateway's conversion pool (timePoolConversion) versus the same ffmpeg
// command run bare, alternately; × real time = audio duration / wall time; best run of each.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Figure, FigureResult } from '../figure.js'
import { benchTmp } from '../paths.js'
import { round } from '../stats.js'
import { writeWavFile } from '../../src/sim/wav.js'
import { bareConversionCommand, timePoolConversion } from '../../src/recordings/conversion-timing.js'

const TARGET = 0.9

async function runBare (wav: string, mp3: string): Promise<number> {
  const cmd = bareConversionCommand(wav, mp3)
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd.file, cmd.args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.on('error', reject)
    child.on('exit', (code) => { code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code ?? '?'}: ${stderr.slice(0, 300)}`)) })
  })
  return performance.now() - started
}

export const mp3Conversion: Figure = {
  id: 'mp3-conversion',
  title: 'MP3 conversion (one-hour 8 kHz mono WAV)',
  async run (opts): Promise<FigureResult> {
    const audioMs = opts.quick ? 10 * 60_000 : 60 * 60_000
    const dir = path.join(benchTmp, 'mp3')
    mkdirSync(dir, { recursive: true })
    const wav = path.join(dir, 'recording.wav')
    try {
      await writeWavFile(wav, audioMs)
      const wavBytes = statSync(wav).size
      const rounds = opts.quick ? 2 : 3
      const bare: number[] = []
      const pool: number[] = []
      let mp3Bytes = 0
      for (let i = 0; i < rounds; i++) {
        bare.push(await runBare(wav, path.join(dir, 'bare.mp3')))
        const t = await timePoolConversion(wav, { outDir: dir })
        pool.push(t.elapsedMs)
        mp3Bytes = t.bytes
      }
      const best = (xs: number[]): number => Math.min(...xs)
      const x = (ms: number): number => round(audioMs / ms, 1)
      const poolX = x(best(pool))
      const bareX = x(best(bare))
      const ratio = round(poolX / bareX, 3)
      return {
        id: this.id,
        title: opts.quick ? 'MP3 conversion (10-minute 8 kHz mono WAV, quick run)' : this.title,
        value: poolX,
        unit: '× real time',
        summary: `${poolX}× real time (${round(best(pool))} ms for ${audioMs / 60_000} min of audio; bare ffmpeg ${bareX}×, ${round(best(bare))} ms)`,
        ceiling: { what: 'the same ffmpeg command run bare on the same file', value: bareX, unit: '× real time' },
        ratio,
        target: { text: `≥ ${TARGET} of ceiling`, met: ratio >= TARGET },
        details: { audioMs, wavBytes, mp3Bytes, rounds, poolMs: pool.map((v) => round(v)), bareMs: bare.map((v) => round(v)) },
        notes: [`Best of ${rounds} alternating runs each; ffmpeg is the bundled @ffmpeg-installer binary unless FFMPEG_PATH is set, MP3 at the default 32 kbit/s.`]
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
