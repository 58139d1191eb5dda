// A PostgreSQL database of its own for each test: created with a random name on the server at
// PG_URL (default postgres://postgres@127.0.0.1:5432/postgres, trust auth) and dropped at the end.
// No server: the test fails with a sentence saying how to provide one (tests are never skipped).
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import pg from 'pg'

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Teardown { teardown: (fn: () => Promise<void> | void) => void }

async function admin<T> (fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 })
  try {
    await c.connect()
  } catch (err) {
    throw new Error(`these tests need a PostgreSQL server they may create databases on: ${err instanceof Error ? err.message : String(err)}. Start one at 127.0.0.1:5432 (user postgres, trust auth), e.g. \`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16\`, or set PG_URL=postgres://USER:PASSWORD@HOST:PORT/postgres`)
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
  await admin(async (c) => { await c.query(`CREATE DATABASE ${name}`) })
  t.teardown(async () => { await admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }) })
  const u = new URL(PG_URL)
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
