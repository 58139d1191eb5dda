// Start-up (issue 16): packages only some set-ups need are loaded when first used, not when the
// gateway's modules are imported. node-postgres only with DATABASE_URL on PostgreSQL, @odata/parser
// only at the simulator's first $filter, pino-pretty only for LOG_FORMAT=pretty (or a terminal); a
// gateway on SQLite with the demo simulator logging JSON loads none of them.
import path from 'node:path'
import t from 'tap'
import { TS_CHILD_ARGS, execUninstrumented } from './ts-child.js'

const root = path.resolve(import.meta.dirname, '..')

/**
 * The node_modules packages among `names` that importing `modules` loaded (in a fresh process), then
 * those loaded after importing `then` too: one child for both (a child costs ~1 s of CPU).
 */
async function loadedBy (modules: readonly string[], then: string, names: readonly string[]): Promise<[string[], string[]]> {
  const script = `
    import { createRequire } from 'node:module'
    const loaded = () => { const keys = Object.keys(createRequire(import.meta.url).cache); return ${JSON.stringify(names)}.filter((n) => keys.some((k) => k.includes('/node_modules/' + n + '/'))) }
    for (const m of ${JSON.stringify(modules)}) await import(m)
    const before = loaded()
    await import(${JSON.stringify(then)})
    console.log(JSON.stringify([before, loaded()]))`
  const { stdout } = await execUninstrumented([...TS_CHILD_ARGS, '--input-type=module', '-e', script], { cwd: root })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '[[], []]') as [string[], string[]]
}

const LAZY = ['pg', '@odata/parser', 'pino-pretty']

t.test('importing the gateway and the simulator loads neither node-postgres, the OData parser nor pino-pretty', async (t) => {
  const files = ['src/server.ts', 'src/services.ts', 'src/sim/simulator.ts', 'src/store/pg/pg-pool.ts', 'src/log-format.ts', 'src/tenants/tenant-gateway.ts'].map((f) => path.join(root, f))
  const [loaded, withPg] = await loadedBy(files, 'pg', LAZY)
  t.same(loaded, [])
  // The check itself can see a loaded package.
  t.same(withPg, ['pg'])
})

t.test('prom-client (and the @opentelemetry/api it loads) is not loaded with the single-PBX gateway, only when its metrics registry is first asked for', async (t) => {
  const files = ['src/server.ts', 'src/services.ts', 'src/sim/simulator.ts', 'src/app.ts'].map((f) => path.join(root, f))
  const [loaded, afterMetrics] = await loadedBy(files, 'prom-client', ['prom-client', '@opentelemetry/api'])
  t.same(loaded, [], '~50 ms of a start-up (issue 16)')
  t.same(afterMetrics, ['prom-client', '@opentelemetry/api'])
})

t.test('they load when first used', async (t) => {
  const { compileFilter } = await import('../src/sim/xapi/odata-filter.js')
  const keep = compileFilter("Number eq '101'", () => true)
  t.ok(keep({ Number: '101' }))
  t.notOk(keep({ Number: '102' }))
  const { logDestination } = await import('../src/log-format.js')
  const { PassThrough } = await import('node:stream')
  const out = new PassThrough()
  let text = ''
  out.on('data', (c: Buffer) => { text += String(c) })
  const dest = logDestination('pretty', out)
  t.ok(dest !== undefined, 'a pino-pretty stream')
  dest?.write(JSON.stringify({ level: 30, time: 0, msg: 'hello pretty' }) + '\n')
  await new Promise((resolve) => setImmediate(resolve))
  t.match(text, /INFO.*hello pretty/, 'pino-pretty formats the line')
  const { createPgStore } = await import('../src/store/pg/pg-pool.js')
  const store = createPgStore('postgres://nobody@127.0.0.1:1/none')
  t.equal(typeof store.pool.query, 'function')
  await store.close()
})
