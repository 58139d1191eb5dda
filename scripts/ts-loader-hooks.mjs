// The module hooks behind scripts/ts-loader.mjs (they run on Node's loader thread).
// The output keeps the source's line structure and carries an inline source map without the sources:
// the coverage check (scripts/coverage-check.mjs) maps V8's ranges back through it and reads the .ts files.
// tsx is not used here because it minifies whitespace: c8 then loses most function and branch ranges.
//
// Every test process loads the same files, so esbuild's output is kept on disk, content-addressed
// (node_modules/.cache/ts-loader/<sha256 of esbuild's version, the options and the source>.js): a run
// transforms each file once instead of once per process, and a later run with unchanged sources starts
// no esbuild at all. A changed source or option, or another esbuild version, is another key.
// TS_LOADER_CACHE names another folder (the loader's test uses a temporary one).
import { randomBytes, createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const TS = /\.ts$/
const CACHE = process.env.TS_LOADER_CACHE === undefined
  ? new URL('../node_modules/.cache/ts-loader/', import.meta.url)
  : pathToFileURL(`${process.env.TS_LOADER_CACHE}/`)
const ESBUILD_VERSION = createRequire(import.meta.url)('esbuild/package.json').version

/** esbuild's options for one file; `sourcefile` is the file's URL, which the inline source map names. */
const optionsFor = (url) => ({
  loader: 'ts',
  format: 'esm', // the package is "type": "module"
  target: 'node20',
  sourcefile: url,
  sourcemap: 'inline',
  sourcesContent: false,
  // tsc's semantics for what esbuild would otherwise guess from its own defaults
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: false } }
})

/**
 * The project's own files, where a `./x.js` import means `./x.ts` (dependencies ship their .js). A parent
 * with a query (tap's mocks mark the modules they load so) is left to the hooks after this one.
 */
const isProjectFile = (url) => url?.startsWith('file:') && !url.includes('/node_modules/') && !url.includes('?')

const isFile = (url) => {
  try { return statSync(url).isFile() } catch { return false }
}

/**
 * NodeNext imports name the .js file tsc would emit; in the sources that file is the .ts beside it.
 * For a relative .js import from a project file the .ts is checked first (one stat; asking Node first
 * would cost a failed resolution, with its exception, for nearly every import). Otherwise Node resolves
 * the specifier as written, and the .ts beside a .js that is not there.
 */
export async function resolve (specifier, context, next) {
  const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('file:')
  if (relative && specifier.endsWith('.js') && isProjectFile(context.parentURL)) {
    const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL)
    if (isFile(ts)) return { url: ts.href, shortCircuit: true }
  }
  try {
    return await next(specifier, context)
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !relative || !specifier.endsWith('.js')) throw err
    return next(`${specifier.slice(0, -3)}.ts`, context)
  }
}

/** esbuild is loaded (and its service process started) only when a file is not in the cache. */
let esbuild
const transform = async (source, options) => {
  esbuild ??= await import('esbuild')
  return (await esbuild.transform(source, options)).code
}

/** Writes under a temporary name and renames, so a concurrent reader sees the whole file or none. */
async function store (file, code) {
  const tmp = new URL(`${file.pathname.split('/').pop()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`, CACHE)
  try {
    await mkdir(CACHE, { recursive: true })
    await writeFile(tmp, code)
    await rename(tmp, file)
  } catch {
    // a cache that cannot be written (read-only node_modules) only costs the next process a transform
    await unlink(tmp).catch(() => {})
  }
}

/**
 * A module's code: from the cache, or transformed and stored. Also called by test/run-before.ts, which
 * fills the cache once before the tests start (else every early test process transforms the same files).
 */
export async function compiled (url, source) {
  const options = optionsFor(url)
  const key = createHash('sha256').update(`${ESBUILD_VERSION}\0${JSON.stringify(options)}\0${source}`).digest('hex')
  const file = new URL(`${key}.js`, CACHE)
  let code = await readFile(file, 'utf8').catch(() => undefined)
  if (code === undefined) {
    code = await transform(source, options)
    await store(file, code)
  }
  return code
}

export async function load (url, context, next) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return next(url, context)
  const source = await readFile(fileURLToPath(url), 'utf8')
  return { format: 'module', source: await compiled(url, source), shortCircuit: true }
}
