// The gateway's version, read once from package.json (works from src/ under tsx and from dist/).
import { readFileSync } from 'node:fs'

function readVersion (): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === '3cx-gateway' && typeof pkg.version === 'string') return pkg.version
    } catch { /* try the next location */ }
  }
  return '0.0.0'
}

export const VERSION = readVersion()
