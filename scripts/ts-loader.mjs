// Runs TypeScript in Node: `node --import ./scripts/ts-loader.mjs file.ts`. tap loads it in every test
// process (.taprc) and tests that spawn a gateway child pass it on. It only strips types, with esbuild;
// `npm test` type-checks the project with tsc beside tap (scripts/test.mjs). It replaces tap's ts-node loader, which
// loaded the TypeScript compiler into each test process (about 0.85 s of CPU each) just to read tsconfig.
import { register } from 'node:module'

register('./ts-loader-hooks.mjs', import.meta.url)
