// Module hook for a batch process (test/batch-runner.ts): `import t from 'tap'` in a test file or a
// test helper resolves to test/batch-tap.ts, whose `t` is the running file's own subtest.
const SHIM = new URL('./batch-tap.ts', import.meta.url).href
const TEST_DIR = new URL('./', import.meta.url).href

export async function resolve (specifier, context, nextResolve) {
  if (specifier === 'tap' && context.parentURL?.startsWith(TEST_DIR) === true && context.parentURL !== SHIM) {
    return { url: SHIM, shortCircuit: true }
  }
  return await nextResolve(specifier, context)
}
