// openapi/xapi.d.ts must be regenerated (npm run gen:xapi) whenever 3CX's swagger file changes:
// its first line records the sha256 of the spec it was generated from.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
// @ts-expect-error generate.mjs is plain JavaScript without type declarations
import { DEFAULT_SPEC, specHash } from '../openapi/generate.mjs'

const typesFile = fileURLToPath(new URL('../openapi/xapi.d.ts', import.meta.url))

// The spec is kept in openapi/ (openapi/SOURCES.md): this test never skips.
t.test('openapi/xapi.d.ts was generated from the current spec', async (t) => {
  const types = await readFile(typesFile, 'utf8')
  const header = types.slice(0, types.indexOf('\n'))
  const recorded = /sha256 ([0-9a-f]{64})/.exec(header)?.[1]
  t.ok(recorded, `the first line records a sha256: ${header}`)
  const actual = (specHash as (text: string) => string)(await readFile(DEFAULT_SPEC as string, 'utf8'))
  t.equal(recorded, actual, 'the spec changed: run `npm run gen:xapi` and commit openapi/xapi.d.ts')
})
