// scripts/ts-loader.mjs: relative `.js` imports find the `.ts` source (or a real .js file), and esbuild's
// output is cached by content, so a process reuses what an earlier one transformed and a changed source
// is transformed again.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { TS_CHILD_ARGS } from './ts-child.js'

const run = promisify(execFile)

t.test('esbuild output is cached by content and reused by the next process', async (t) => {
  const dir = t.testdir({
    'package.json': JSON.stringify({ type: 'module' }),
    'main.ts': "import { b } from './b.js'\nimport { c } from './c.js'\nconst out: string = `${b} ${c}`\nconsole.log(out)\n",
    'b.ts': "export const b: string = 'one'\n",
    'c.js': "export const c = 'plain-js'\n",
    cache: {}
  })
  const cache = path.join(dir, 'cache')
  const main = async (): Promise<string> =>
    (await run(process.execPath, [...TS_CHILD_ARGS, path.join(dir, 'main.ts')], { env: { ...process.env, TS_LOADER_CACHE: cache } })).stdout.trim()
  const entries = (): string[] => readdirSync(cache).sort()

  t.equal(await main(), 'one plain-js', 'a .js import loads the .ts beside it, or the .js file when that is all there is')
  t.equal(entries().length, 2, 'one entry per transformed .ts file, no temporary file left')
  const forB = entries().map((f) => path.join(cache, f)).find((f) => readFileSync(f, 'utf8').includes('"one"'))
  if (forB === undefined) return t.fail('no entry holds b.ts')
  t.match(readFileSync(forB, 'utf8'), /sourceMappingURL=data:application\/json;base64,/, 'with its inline source map')

  writeFileSync(forB, "export const b = 'from-cache'\n")
  t.equal(await main(), 'from-cache plain-js', 'the next process takes the cached output instead of transforming')

  writeFileSync(path.join(dir, 'b.ts'), "export const b: string = 'two'\n")
  t.equal(await main(), 'two plain-js', 'a changed source is another key: transformed again')
  t.equal(entries().length, 3)
})
