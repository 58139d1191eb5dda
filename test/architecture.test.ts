// Facts about the design anyone can check from the imports (docs/architecture.md "Storage ports"):
// only src/store/ talks to SQLite; the domain (calls, webhooks, recordings, reports, routes…) knows
// the storage only through its ports; only the composition root picks the adapters; calls/ depends
// on nothing above it (webhooks, store, reports); only src/app.ts picks routes, and a route imports
// no other route (shared schemas live in src/schemas/, services come from app.gateway); plugins are
// either the application's (src/plugins/app/) or configured ecosystem ones (src/plugins/external/).
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('..', import.meta.url))

function sources (dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name)
    if (e.isDirectory()) return sources(rel)
    return e.name.endsWith('.ts') ? [rel] : []
  })
}

const IMPORT = /^\s*(?:import|export)\b[^'"]*?(?:from\s+)?'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm

/** What a file imports: repository paths (`src/x.ts`) for relative imports, package names otherwise. */
function importsOf (file: string, text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]
    if (spec.startsWith('.')) out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'))
    else out.push(spec)
  }
  return out
}

/** Database drivers: SQLite and PostgreSQL (DATABASE_URL). */
const DATABASE_DRIVERS = new Set(['better-sqlite3', 'pg'])

/** Files allowed to choose adapters: the composition root. */
const COMPOSITION_ROOTS = new Set(['src/services.ts'])

/** The one file that registers routes. */
const APP = 'src/app.ts'

/** Whether `file` may import the route module `imp`: app.ts, or a helper in the route's own folder (routes/legacy/…). */
function mayImportRoute (file: string, imp: string): boolean {
  if (file === APP) return true
  const dir = path.posix.dirname(file)
  return dir !== 'routes' && dir.startsWith('routes/') && path.posix.dirname(imp) === dir
}

/** The broken rules of an import graph, one sentence each. */
function violations (graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = []
  for (const [file, imports] of graph) {
    const inStore = file.startsWith('src/store/')
    for (const imp of imports) {
      if (DATABASE_DRIVERS.has(imp) && !inStore) out.push(`${file} imports ${imp} (only src/store/ may)`)
      if (imp.startsWith('src/store/') && !inStore && !COMPOSITION_ROOTS.has(file)) out.push(`${file} imports the adapter ${imp} (use the port; only ${[...COMPOSITION_ROOTS].join(', ')} picks adapters)`)
      if (file.startsWith('src/calls/') && /^src\/(webhooks|store|reports)\//.test(imp)) out.push(`${file} imports ${imp} (calls/ declares its ports and imports no higher layer)`)
      if (imp.startsWith('routes/') && !mayImportRoute(file, imp)) out.push(`${file} imports the route ${imp} (only ${APP} picks routes; shared schemas are in src/schemas/)`)
      if (file.startsWith('src/plugins/external/') && imp.startsWith('src/plugins/app/')) out.push(`${file} imports the application plugin ${imp} (external plugins only configure ecosystem packages)`)
    }
    if (file.startsWith('src/plugins/') && !/^src\/plugins\/(app|external)\//.test(file)) out.push(`${file} is a plugin outside src/plugins/app/ and src/plugins/external/`)
  }
  return out
}

const files = [...sources('src'), ...sources('routes')]
const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(path.join(root, f), 'utf8'))]))

t.test('the scan sees the imports it judges', async (t) => {
  t.ok(files.length > 100, `files scanned: ${files.length}`)
  t.ok(graph.get('src/store/database.ts')?.includes('better-sqlite3'), 'the store opens SQLite')
  t.ok(graph.get('src/store/pg/pg-pool.ts')?.includes('pg'), 'the store opens PostgreSQL')
  t.ok(graph.get('src/services.ts')?.includes('src/store/sqlite-outbox.ts'), 'the composition root picks the outbox adapter')
  t.ok(graph.get('src/webhooks/delivery.ts')?.includes('src/webhooks/outbox-store.ts'), 'delivery uses the outbox port')
  t.same(importsOf('src/a/b.ts', "import x from '../c/d.js'\nexport { y } from './e.js'\nimport type { Z } from 'pkg'\nconst m = await import('./f.js')\n"),
    ['src/c/d.ts', 'src/a/e.ts', 'pkg', 'src/a/f.ts'])
})

t.test('the rules catch what they forbid', async (t) => {
  t.same(violations(new Map([
    ['src/webhooks/x.ts', ['better-sqlite3', 'src/store/sqlite-outbox.ts']],
    ['src/calls/y.ts', ['src/reports/report-queries.ts', 'src/calls/call-ports.ts']],
    ['src/store/z.ts', ['better-sqlite3', 'pg']],
    ['src/recordings/w.ts', ['pg']],
    ['src/services.ts', ['src/store/sqlite-outbox.ts']],
    ['routes/reports.ts', ['routes/legacy/schemas.ts', 'src/schemas/shared.ts']],
    ['routes/legacy/index.ts', ['routes/legacy/schemas.ts']],
    ['routes/a/b.ts', ['routes/c.ts']],
    ['src/console/index.ts', ['routes/webhooks.ts']],
    [APP, ['routes/webhooks.ts']],
    ['src/plugins/external/cors.ts', ['src/plugins/app/auth.ts']],
    ['src/plugins/app/auth.ts', ['src/plugins/app/request-key.ts']],
    ['src/plugins/loose.ts', []]
  ])).map((v) => v.split(' ').slice(0, 3).join(' ')), [
    'src/webhooks/x.ts imports better-sqlite3',
    'src/webhooks/x.ts imports the',
    'src/calls/y.ts imports src/reports/report-queries.ts',
    'src/recordings/w.ts imports pg',
    'routes/reports.ts imports the',
    'routes/a/b.ts imports the',
    'src/console/index.ts imports the',
    'src/plugins/external/cors.ts imports the',
    'src/plugins/loose.ts is a'
  ])
})

t.test('storage behind ports: SQLite and PostgreSQL only in src/store/, adapters chosen by the composition root only, calls/ imports no higher layer; routes picked by app.ts only; plugins in app/ or external/', async (t) => {
  t.same(violations(graph), [])
})

/** `pkg`, `@scope/pkg` from `pkg/sub/path`, `@scope/pkg/sub`. */
function packageName (spec: string): string {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The packages a file loads at run time (type-only imports are erased by the compiler). */
const MODULE_LOAD = /^\s*(?:import|export)\s+(type\s+)?[^;'"]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm

function runtimePackages (text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(MODULE_LOAD)) {
    const spec = m[2] ?? m[3] ?? m[4]
    if (m[1] !== undefined || spec.startsWith('.') || spec.startsWith('node:')) continue
    out.push(packageName(spec))
  }
  return out
}

t.test('every package the shipped code loads is a dependency, not a devDependency (npm prune --omit=dev keeps it)', async (t) => {
  t.same(runtimePackages("import a from 'yaml'\nimport type { B } from 'playwright-core'\nimport {\n  c\n} from '@fastify/static/x'\nimport fs from 'node:fs'\nimport '@fastify/rate-limit'\nexport type E = 'ringing'\nconst d = await import('exceljs')\n"),
    ['yaml', '@fastify/static', '@fastify/rate-limit', 'exceljs'], 'the scan: type-only imports and node: modules are not packages to install')
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  const missing = files.flatMap((f) => runtimePackages(readFileSync(path.join(root, f), 'utf8'))
    .filter((p) => !(p in pkg.dependencies)).map((p) => `${f} loads ${p}`))
  t.same(missing, [], 'a production install (the Docker image, npm install -g) would fail to load these')
})

t.test('no hand-written source file over 450 lines (generated files excepted)', async (t) => {
  const lengths = [...files, ...sources('test'), ...sources('bench'), ...sources('examples')]
    .filter((f) => !f.endsWith('.generated.ts'))
    .map((f) => ({ f, lines: readFileSync(path.join(root, f), 'utf8').split('\n').length - 1 }))
  t.ok(lengths.length > 300, `files measured: ${lengths.length}`)
  t.same(lengths.filter((x) => x.lines > 450).map((x) => `${x.f}: ${x.lines} lines`), [])
})
