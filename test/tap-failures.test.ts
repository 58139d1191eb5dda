// The failure digest `npm test` prints at the end of a log (scripts/tap-failures.mjs).
import t from 'tap'
// @ts-expect-error a plain .mjs script without types
import { failureDigest, tapFailures } from '../scripts/tap-failures.mjs'

interface Failure { path: string[], diag: string[] }
const read = (text: string, chunk = text.length): Failure[] => {
  const reader = tapFailures()
  for (let i = 0; i < text.length; i += chunk) reader.push(text.slice(i, i + chunk))
  return reader.failures()
}

// The shape tap prints for a batch: batch file > test file > subtest > assertion.
const RUN = `TAP version 14
# Subtest: test/batches/07-bulk-3.test.ts
    # Subtest: test/a.test.ts
        # Subtest: passes
            ok 1 - should be equal
            1..1
        ok 1 - passes # time=1.2ms

        1..1
    ok 1 - test/a.test.ts # time=3ms

    # Subtest: test/b.test.ts
        # Subtest: the call ends once
            ok 1 - started
            not ok 2 - one call-ended event
              ---
              found: 2
              wanted: 1
              at:
                fileName: test/b.test.ts
                lineNumber: 42
              ...

            not ok 3 - todo later # TODO not written
            1..3
        not ok 1 - the call ends once # time=10.5ms

        1..1
    not ok 2 - test/b.test.ts # time=12ms
      ---
      at: the file
      ...

    # Subtest: test/c.test.ts
        not ok 1 - timeout!
          ---
          expired: test/c.test.ts
          ...

        1..1
    not ok 3 - test/c.test.ts # time=300000ms

    1..3
not ok 1 - test/batches/07-bulk-3.test.ts # time=300020ms
1..1
`

t.test('each failure once, by its whole path, with its diagnostics; not the subtests it fails nor a TODO', async (t) => {
  const failures = read(RUN)
  t.same(failures, [
    {
      path: ['test/batches/07-bulk-3.test.ts', 'test/b.test.ts', 'the call ends once', 'one call-ended event'],
      diag: ['found: 2', 'wanted: 1', 'at:', '  fileName: test/b.test.ts', '  lineNumber: 42'],
    },
    { path: ['test/batches/07-bulk-3.test.ts', 'test/c.test.ts', 'timeout!'], diag: ['expired: test/c.test.ts'] },
  ])
  t.same(read(RUN, 7), failures, 'the same when the stream comes in small pieces')
  t.same(read(RUN.replace(/\n1\.\.1\n$/, '')), failures, 'an unfinished last line is read at the end')
})

t.test('a subtest that fails by itself (no failing assertion below it) is the failure', async (t) => {
  const failures = read('# Subtest: test/d.test.ts\n    1..0\nnot ok 1 - test/d.test.ts\n  ---\n  signal: SIGKILL\n  ...\n')
  t.same(failures, [{ path: ['test/d.test.ts'], diag: ['signal: SIGKILL'] }])
})

t.test('the digest: nothing for a clean run; at most `limit` failures, then how many more', async (t) => {
  t.equal(failureDigest([]), '')
  const digest = failureDigest(read(RUN), 1)
  t.match(digest, /^# 2 failure\(s\), repeated from above:\n# not ok: test\/batches\/07-bulk-3\.test\.ts > test\/b\.test\.ts > the call ends once > one call-ended event\n#     found: 2\n/)
  t.match(digest, /# \.\.\. and 1 more \(above\)\n$/)
  t.notMatch(digest, /timeout!/)
})
