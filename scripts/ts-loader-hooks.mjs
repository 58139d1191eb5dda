// The module hooks behind scripts/ts-loader.mjs (they run on Node's loader thread).
// The output keeps the source's line structure and carries an inline source map without the sources:
// the coverage check (scripts/coverage-check.mjs) maps V8's ranges back through it and reads the .ts files.
// tsx is not used here because it minifies whitespace: c8 then loses most function and branch ranges.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

const TS = /\.ts$/

/** NodeNext imports name the .js file tsc would emit; when it is not there, the source is the .ts beside it. */
export async function resolve (specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (err) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('file:')
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !relative || !specifier.endsWith('.js')) throw err
    return next(`${specifier.slice(0, -3)}.ts`, context)
  }
}

export async function load (url, context, next) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return next(url, context)
  const source = await readFile(fileURLToPath(url), 'utf8')
  const { code } = await transform(source, {
    loader: 'ts',
    format: 'esm', // the package is "type": "module"
    target: 'node20',
    sourcefile: url,
    sourcemap: 'inline',
    sourcesContent: false,
    // tsc's semantics for what esbuild would otherwise guess from its own defaults
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: false } }
  })
  return { format: 'module', source: code, shortCircuit: true }
}
