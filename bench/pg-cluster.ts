// A PostgreSQL cluster of the test's own, for tests that restart the database (the shared server at
// PG_URL is never restarted): initdb into a temp folder, pg_ctl on a random free port, trust auth,
// removed at the end. Run as root, the binaries run as the `postgres` user (initdb refuses root).
// Without the binaries the caller skips, with the sentence `missing` gives.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, chownSync } from 'node:fs'
import { tmpdir } from 'node:os'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'

export interface OwnCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string
  port: number
  /** pg_ctl stop -m immediate: the server dies as in a crash (no clean shutdown of the connections). */
  crash: () => Promise<void>
  start: () => Promise<void>
  destroy: () => Promise<void>
}

/** Why the cluster cannot be made here, or null when it can. */
export function missing (): string | null {
  for (const bin of ['initdb', 'pg_ctl']) if (!existsSync(path.join(PG_BIN, bin))) return `${path.join(PG_BIN, bin)} is missing: install PostgreSQL 15's server binaries (Debian: postgresql-15) or set PG_BIN to their folder`
  return null
}

export async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => { resolve() }))
  return port
}

export async function ownCluster (t: { teardown: (fn: () => Promise<void>) => void }, settings: Record<string, string> = {}): Promise<OwnCluster> {
  const root = process.getuid?.() === 0
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-pg-'))
  if (root) chownSync(dir, 101, 104)
  const pg = async (bin: string, args: string[]): Promise<void> => {
    const [cmd, argv] = root ? ['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args]] : [path.join(PG_BIN, bin), args]
    await run(cmd, argv, { timeout: 60_000 })
  }
  const data = path.join(dir, 'data')
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const options = Object.entries({ port: String(port), listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...settings }).map(([k, v]) => `-c ${k}=${v}`).join(' ')
  const start = async (): Promise<void> => { await pg('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']) }
  let running = false
  await start()
  running = true
  const cluster: OwnCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: async () => { await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); running = false },
    start: async () => { await start(); running = true },
    destroy: async () => {
      if (running) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      running = false
      rmSync(dir, { recursive: true, force: true })
    }
  }
  t.teardown(cluster.destroy)
  return cluster
}
