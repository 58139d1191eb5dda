// The machine a benchmark ran on, for both results files.
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { repoRoot } from './paths.js'

export interface MachineDescription {
  cpuModel: string
  cores: number
  memoryGb: number
  node: string
  os: string
  date: string
  commit: string
}

function gitCommit (): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha} (with uncommitted changes)` : sha
  } catch {
    return 'unknown'
  }
}

export function describeMachine (): MachineDescription {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    commit: gitCommit()
  }
}
