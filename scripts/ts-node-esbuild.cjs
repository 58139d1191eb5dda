// A ts-node transpiler (its `transpiler` option, see tsconfig.tap.json) that turns TypeScript into
// JavaScript with esbuild instead of the TypeScript compiler: tap loads every test file, helper and
// source file through ts-node in every test process, and esbuild does that about ten times faster.
// It only strips types; `npm test` type-checks the whole project with tsc before tap runs (pretest).
// The source maps it returns are what ts-node inlines and what the coverage check maps back to .ts.
'use strict'
const { transformSync } = require('esbuild')

/** ts-node's transpiler factory: `nodeModuleEmitKind` is 'nodecjs' for .cts/CommonJS files, else ESM. */
exports.create = function create ({ nodeModuleEmitKind, service }) {
  const options = service.config.options
  const format = nodeModuleEmitKind === 'nodecjs' || options.module === 1 /* CommonJS */ ? 'cjs' : 'esm'
  return {
    transpile (input, { fileName }) {
      const { code, map } = transformSync(input, {
        loader: fileName.endsWith('x') ? 'tsx' : 'ts',
        format,
        target: 'node20',
        sourcefile: fileName,
        sourcemap: 'external',
        sourcesContent: false, // the coverage check reads the .ts files themselves, as with tsc's maps
        // tsc's semantics for what esbuild would otherwise guess from its own defaults
        tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: false } }
      })
      return { outputText: code, sourceMapText: map }
    }
  }
}
