import t from 'tap'
import { Writable } from 'node:stream'
import { main } from '../src/cli.js'
import { COMMANDS } from '../src/cli-help.js'

function io (): { io: { stdout: Writable, stderr: Writable }, out: () => string, err: () => string } {
  let out = ''
  let err = ''
  return {
    io: {
      stdout: new Writable({ write (c, _e, cb) { out += String(c); cb() } }),
      stderr: new Writable({ write (c, _e, cb) { err += String(c); cb() } })
    },
    out: () => out,
    err: () => err
  }
}

function withEnv (env: Record<string, string | undefined>, fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    const saved = { ...process.env }
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k)
      else process.env[k] = v
    }
    try { await fn() } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k)
      Object.assign(process.env, saved)
    }
  }
}

t.test('help, version and unknown commands', async (t) => {
  const h = io()
  t.equal(await main(['--help'], h.io), 0)
  t.match(h.out(), /3cx-gateway doctor/)
  for (const c of COMMANDS) {
    t.match(h.out(), `3cx-gateway ${c.name}`, `the overview lists ${c.name}`)
    for (const o of c.options) t.match(h.out(), `--${o.name}`, `the overview lists ${c.name} --${o.name}`)
  }
  const v = io()
  t.equal(await main(['--version'], v.io), 0)
  t.match(v.out(), /^\d+\.\d+\.\d+\n$/)
  const u = io()
  t.equal(await main(['frobnicate'], u.io), 2)
  t.match(u.err(), /^3cx-gateway: unknown command "frobnicate"\n\n3cx-gateway \S+ — .*\nUsage:/s, 'the error, then the overview')
  const f = io()
  t.equal(await main(['--bogus'], f.io), 2)
  t.match(f.err(), /unknown flag "--bogus" \(flags come after the command/)
  const r = io()
  t.equal(await main(['recordings', 'list'], r.io), 2)
  t.match(r.err(), /unknown command "recordings list"; did you mean recordings convert\?\n\nusage: 3cx-gateway recordings convert/)
  const bare = io()
  t.equal(await main(['recordings'], bare.io), 2)
  t.match(bare.err(), /"recordings" needs a sub-command: recordings convert/)
  const c = io()
  t.equal(await main(['config', 'show'], c.io), 2)
  t.match(c.err(), /usage: 3cx-gateway config check/)
})

// Without any configuration: --help must never need PBX_URL or GATEWAY_KEYS, nor start anything.
t.test('every command has --help, and an unknown flag gives the error and that help', withEnv({ PBX_URL: 'ftp://broken', GATEWAY_KEYS: undefined }, async () => {
  for (const c of COMMANDS) {
    const words = c.name.split(' ')
    for (const flag of ['--help', '-h']) {
      const h = io()
      t.equal(await main([...words, flag], h.io), 0, `${c.name} ${flag}`)
      t.match(h.out(), new RegExp(`^usage: 3cx-gateway ${c.name}`), `${c.name} ${flag} prints its usage`)
      for (const o of c.options) t.match(h.out(), new RegExp(`--${o.name}\\b.*  \\S`), `${c.name} --help explains --${o.name}`)
      t.equal(h.err(), '', 'and nothing else')
    }
    const b = io()
    t.equal(await main([...words, '--bogus'], b.io), 2, `${c.name} --bogus`)
    t.match(b.err(), new RegExp(`^3cx-gateway ${c.name}: Unknown option '--bogus'\\n\\nusage: 3cx-gateway ${c.name}`))
    t.notMatch(b.err(), /at .*\.ts:\d+/, 'no stack trace')
  }
  const sub = io()
  t.equal(await main(['recordings', '--help'], sub.io), 0)
  t.match(sub.out(), /^usage: 3cx-gateway recordings convert <dir>/)
  const extra = io()
  t.equal(await main(['doctor', 'now'], extra.io), 2)
  t.match(extra.err(), /^3cx-gateway doctor: unexpected argument "now"; doctor takes no arguments/)
  const help = io()
  t.equal(await main(['serve', '--port', '1', '--help'], help.io), 0, '--help wins over other mistakes')
}))

t.test('config check prints the effective configuration with secrets masked', withEnv({
  PBX_URL: 'https://pbx.example.com:5001', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'cli-secret-value', GATEWAY_KEYS: 'cli-test-key-0123456789abcdef'
}, async () => {
  const c = io()
  t.equal(await main(['config', 'check'], c.io), 0)
  const shown = JSON.parse(c.out()) as { mode: string, pbx: { url: string } }
  t.equal(shown.mode, 'pbx')
  t.equal(shown.pbx.url, 'https://pbx.example.com:5001')
  t.notMatch(c.out(), 'cli-secret-value')
  t.notMatch(c.out(), 'cli-test-key-0123456789abcdef')
}))

t.test('a bad configuration stops with one line per problem and exit code 2', withEnv({
  PBX_URL: 'ftp://nope', PORT: 'eighty', GATEWAY_KEYS: undefined
}, async () => {
  const c = io()
  t.equal(await main(['serve'], c.io), 2)
  t.match(c.err(), /PBX_URL: expected an http\(s\) URL/)
  t.match(c.err(), /PORT: expected a whole number/)
  t.match(c.err(), /GATEWAY_KEYS: required/)
  t.notMatch(c.err(), /at .*\.ts:\d+/, 'no stack trace')
}))

t.test('doctor needs a real PBX; sim validates its flags', withEnv({ PBX_URL: undefined }, async () => {
  const d = io()
  t.equal(await main(['doctor'], d.io), 2)
  t.match(d.err(), /doctor checks a real PBX/)
  const s = io()
  t.equal(await main(['sim', '--port', 'x'], s.io), 2)
  t.match(s.err(), /--port must be/)
  const s2 = io()
  t.equal(await main(['sim', '--seed', '1.5'], s2.io), 2)
  t.match(s2.err(), /--seed must be a whole number/)
}))
