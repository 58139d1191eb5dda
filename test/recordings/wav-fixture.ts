// Test WAVs: PCM 16-bit mono, a tone, written directly (no ffmpeg), like the ones 3CX writes.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** A fresh temp folder removed when the test ends. */
export async function tempDir (t: { teardown: (fn: () => Promise<void>) => void }, prefix = 'rec-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export function wavBytes (seconds: number, sampleRate = 8000, hz = 440): Buffer {
  const samples = Math.round(seconds * sampleRate)
  const buf = Buffer.alloc(44 + samples * 2)
  buf.write('RIFF', 0)
  buf.writeUInt32LE(36 + samples * 2, 4)
  buf.write('WAVE', 8)
  buf.write('fmt ', 12)
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(1, 20) // PCM
  buf.writeUInt16LE(1, 22) // mono
  buf.writeUInt32LE(sampleRate, 24)
  buf.writeUInt32LE(sampleRate * 2, 28)
  buf.writeUInt16LE(2, 32)
  buf.writeUInt16LE(16, 34)
  buf.write('data', 36)
  buf.writeUInt32LE(samples * 2, 40)
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / sampleRate)), 44 + i * 2)
  return buf
}

export async function writeWav (file: string, seconds: number, sampleRate = 8000): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, wavBytes(seconds, sampleRate))
  return file
}
