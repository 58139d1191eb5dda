// The README says every variable is in .env.example: every variable config.ts reads must be there.
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')

t.test('.env.example lists every configuration variable', async (t) => {
  const source = readFileSync(path.join(root, 'src/config.ts'), 'utf8')
  const example = readFileSync(path.join(root, '.env.example'), 'utf8')
  // `r.int('PORT', …)`, `r.str('MP3_DIR', …)`, `env.GATEWAY_KEYS`
  const names = new Set([...source.matchAll(/(?:\br\.\w+\('|\benv\.)([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]))
  t.ok(names.size >= 40, `found the variables config.ts reads (${names.size})`)
  for (const name of ['WEBHOOK_CONCURRENCY', 'MP3_DIR', 'LOG_FORMAT', 'SIM_PORT', 'TRUST_PROXY']) t.ok(names.has(name), `${name} is recognised as a variable`)
  for (const name of names) t.match(example, new RegExp(`^# ${name}=`, 'm'), `${name} is in .env.example`)
})
