// A throwaway PostgreSQL database for the PostgreSQL figures: created on the server at PG_URL
// (default postgres://postgres@127.0.0.1:5432/postgres, trust auth, as the tests use), or on another
// server a figure names (tenants-sizing: a cluster of its own), and dropped afterwards. No server:
// the reason, and the figure is skipped with a note saying so.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Figure, FigureResult } from './figure.js'

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface BenchDatabase { url: string, drop: () => Promise<void> }

async function admin<T> (server: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server, connectionTimeoutMillis: 3000 })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** A fresh database on `server` (its postgres database's URL), or the reason there is none (no server there). */
export async function benchDatabase (server = PG_URL): Promise<BenchDatabase | { unavailable: string }> {
  const name = `gw_bench_${randomBytes(6).toString('hex')}`
  try {
    await admin(server, async (c) => { await c.query(`CREATE DATABASE ${name}`) })
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) }
  }
  const u = new URL(server)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    drop: async () => { await admin(server, async (c) => { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }).catch(() => {}) }
  }
}

/** What stopped a PostgreSQL figure, and what to do about it; by default, no server at all. `local`: the problem is on this machine, not at PG_URL. */
interface PgProblem { problem: string, remedy: string, local?: boolean }
const NO_SERVER: PgProblem = { problem: 'no PostgreSQL server', remedy: 'Start one (user postgres, trust auth) or set PG_URL=postgres://USER:PASSWORD@HOST:PORT/postgres' }

/** The result of a PostgreSQL figure that could not run: not measured, with a note saying why and how to run it. */
export function skippedWithoutPg (f: Pick<Figure, 'id' | 'title'>, target: string, why: string, { problem, remedy, local = false }: PgProblem = NO_SERVER): FigureResult {
  const where = new URL(PG_URL)
  where.password = ''
  const at = local ? '' : ` at ${where.host}`
  return {
    id: f.id,
    title: f.title,
    value: null,
    unit: '',
    summary: `skipped: ${problem}`,
    ceiling: null,
    ratio: null,
    target: { text: target, met: null },
    details: { skipped: true, reason: why },
    notes: [`Skipped: ${problem}${at} (${why.split('\n')[0]}). ${remedy}, then run \`npm run bench -- --only ${f.id}\`.`]
  }
}

/** Runs `measure` on a throwaway database on `server`, or returns the skipped result when there is no server. */
export async function withBenchDatabase (f: Pick<Figure, 'id' | 'title'>, target: string, measure: (url: string) => Promise<FigureResult>, server = PG_URL): Promise<FigureResult> {
  const db = await benchDatabase(server)
  if ('unavailable' in db) return skippedWithoutPg(f, target, db.unavailable)
  try {
    return await measure(db.url)
  } finally {
    await db.drop()
  }
}
