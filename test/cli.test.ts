import t from 'tap'
import { Writable } from 'node:stream'
import { main, startSim } from '../src/cli.js'
import { COMMANDS } from '../src/cli-help.js'
import { gatewayCommand } from '../src/demo-simulator.js'
import { loadConfig } from '../src/config.js'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

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

t.test('doctor and export work in demo mode, against a fresh built-in simulator', withEnv({ PBX_URL: undefined, GATEWAY_KEYS: undefined }, async () => {
  const d = io()
  t.equal(await main(['doctor'], d.io), 0, d.out())
  t.match(d.err(), /^demo mode \(PBX_URL is not set\): using the built-in 3CX V20 simulator at http:\/\/127\.0\.0\.1:\d+ with 7 days of simulated calls; set PBX_URL/)
  t.match(d.out(), /All checks passed/)
  const out = path.join(t.testdir({}), 'calls.csv')
  // Two days back to today: "today" alone holds no call yet just after midnight (this test failed at 00:07 UTC).
  const day = (daysAgo: number): string => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
  const e = io()
  t.equal(await main(['export', 'calllog', '--from', day(2), '--to', day(0), '--out', out], e.io), 0, e.err())
  t.match(e.err(), /Exported [1-9]\d* rows of the call log report/, 'the demo history gives the report rows')
  t.ok(readFileSync(out, 'utf8').split('\n').length > 2)
}))

t.test('export in demo mode checks its arguments before it starts the simulator', withEnv({ PBX_URL: undefined, GATEWAY_KEYS: undefined }, async () => {
  for (const args of [['calllog', '--to', '2026-11-07'], ['calllog', '--from', 'yesterday', '--to', '2026-11-07'], ['bogus', '--from', '2026-11-01', '--to', '2026-11-07']]) {
    const e = io()
    t.equal(await main(['export', ...args], e.io), 2, args.join(' '))
    t.match(e.err(), /^export: .*\nRun "3cx-gateway export --help" for the options\.\n$/, `${args.join(' ')}: the error alone`)
    t.notMatch(e.err(), /demo mode|simulator/, `${args.join(' ')}: no simulator was started`)
  }
}))

t.test('doctor on a PBX does not ask for GATEWAY_KEYS', async (t) => {
  const { createSimulator } = await import('../src/sim/simulator.js')
  const sim = await createSimulator()
  t.teardown(() => sim.close())
  await withEnv({ PBX_URL: sim.url, PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'sim-secret', GATEWAY_KEYS: undefined }, async () => {
    const d = io()
    t.equal(await main(['doctor'], d.io), 0, d.err())
    t.equal(d.err(), '', 'no demo note, no key problem')
    t.match(d.out(), new RegExp(`doctor: ${sim.url}`))
  })()
})

t.test('sim validates its flags; its connect command is complete', async (t) => {
  const s = io()
  t.equal(await main(['sim', '--port', 'x'], s.io), 2)
  t.match(s.err(), /--port must be/)
  const s2 = io()
  t.equal(await main(['sim', '--seed', '1.5'], s2.io), 2)
  t.match(s2.err(), /--seed must be a whole number/)
  const client = { clientId: '599', secret: 'sim-secret' }
  t.equal(gatewayCommand('http://127.0.0.1:5001', client, 'k'.repeat(32)),
    `PBX_URL=http://127.0.0.1:5001 PBX_CLIENT_ID=599 PBX_CLIENT_SECRET=sim-secret GATEWAY_KEYS=${'k'.repeat(32)}:control npm start`)
  t.match(gatewayCommand('http://0.0.0.0:8080', client, 'k'), /^PBX_URL=http:\/\/127\.0\.0\.1:8080 .* PORT=8081 npm start$/, 'wildcard → loopback; the gateway moves off 8080')
  const cfg = loadConfig({ PBX_URL: 'http://127.0.0.1:5001', PBX_CLIENT_ID: '599', PBX_CLIENT_SECRET: 'sim-secret', GATEWAY_KEYS: `${'k'.repeat(32)}:control` })
  t.equal(cfg.pbx.url, 'http://127.0.0.1:5001', 'the printed variables make a valid gateway configuration')
})

t.test('sim runs the simulator and prints a gateway command that works against it', withEnv({ LOG_LEVEL: 'silent' }, async () => {
  const s = io()
  const recordings = mkdtempSync(path.join(os.tmpdir(), 'cli-sim-'))
  const sim = await startSim({ port: '0', recordings }, s.io)
  if (typeof sim === 'number') throw new Error(`sim exited ${sim}: ${s.err()}`)
  try {
    const out = s.out()
    t.match(out, new RegExp(`^3CX V20 simulator listening on ${sim.url}\n`))
    t.match(out, /API client: PBX_CLIENT_ID=599 PBX_CLIENT_SECRET=sim-secret/)
    const command = /^ {4}(PBX_URL=.* npm start)$/m.exec(out)?.[1]
    if (command === undefined) throw new Error(`no gateway command in:\n${out}`)
    const env = Object.fromEntries([...command.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]))
    t.equal(env.PBX_URL, sim.url, 'the command points at this simulator')
    t.equal(loadConfig(env).pbx.clientId, '599', 'a valid gateway configuration')
    const token = await fetch(`${sim.url}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: env.PBX_CLIENT_ID, client_secret: env.PBX_CLIENT_SECRET })
    })
    t.equal(token.status, 200, 'the printed client gets a token from the simulator')
  } finally {
    await sim.close()
    rmSync(recordings, { recursive: true, force: true })
  }
}))
