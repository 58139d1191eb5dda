// Import of the legacy product's TCXWebAPI.ini (CONFIG_INI=path): its webhook settings map onto the
// gateway's environment variables. Values already set in the environment win over the ini file.
import { readFileSync } from 'node:fs'

/** Parses INI text into a flat map of upper-case keys (sections are ignored; the legacy file has few). */
export function parseIni (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    let value = line.slice(eq + 1).trim()
    if (/^".*"$/.test(value)) value = value.slice(1, -1)
    out.set(line.slice(0, eq).trim().toUpperCase(), value)
  }
  return out
}

/**
 * Maps legacy settings to gateway variables:
 * - `WEBHOOK_URL`, `WEBHOOK_URL_2` and every `*_MONITOR` mirror URL → `WEBHOOK_URLS`
 * - `WEBHOOK_POST_URL` → `WEBHOOK_RECORDING_URLS` (the legacy recording/POST target)
 * - `POST` (1/0: send webhooks as POST form instead of GET) → `WEBHOOK_FORMAT` form/get
 * - `RECORDING_FULL_INFO` → `RECORDING_FULL_INFO`
 */
export function iniToEnv (ini: Map<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  const urls: string[] = []
  for (const key of ['WEBHOOK_URL', 'WEBHOOK_URL_2']) {
    const v = ini.get(key)
    if (v !== undefined && v !== '') urls.push(v)
  }
  for (const [key, v] of ini) {
    if (key.endsWith('_MONITOR') && /^https?:\/\//i.test(v)) urls.push(v)
  }
  if (urls.length > 0) env.WEBHOOK_URLS = [...new Set(urls)].join(',')
  const post = ini.get('WEBHOOK_POST_URL')
  if (post !== undefined && post !== '') env.WEBHOOK_RECORDING_URLS = post
  const method = ini.get('POST')
  if (method !== undefined && method !== '') env.WEBHOOK_FORMAT = /^(1|true|yes|on)$/i.test(method) ? 'form' : 'get'
  const full = ini.get('RECORDING_FULL_INFO')
  if (full !== undefined && full !== '') env.RECORDING_FULL_INFO = full
  return env
}

/** Returns `env` with the ini file's settings filled in where the environment has none. */
export function applyLegacyIni (env: Record<string, string | undefined>): Record<string, string | undefined> {
  const file = env.CONFIG_INI
  if (file === undefined || file.trim() === '') return env
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`CONFIG_INI: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); point it at the legacy TCXWebAPI.ini or unset it`)
  }
  const mapped = iniToEnv(parseIni(text))
  const out = { ...env }
  for (const [k, v] of Object.entries(mapped)) {
    if (out[k] === undefined || out[k] === '') out[k] = v
  }
  return out
}
