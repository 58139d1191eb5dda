// What the Docker image and the Debian service run: a production install (no dev dependencies)
// of the compiled output starts in demo mode and answers; and the Dockerfile copies files that exist.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { globSync } from 'glob'
import { promisify } from 'node:util'
import { until } from './pbx/pbx-fixture.js'
// @ts-expect-error plain JavaScript without type declarations
import { compiled as compiledSource } from '../scripts/ts-loader-hooks.mjs'

const compiled = compiledSource as (url: string, source: string) => Promise<string>

const run = promisify(execFile)
const root = path.resolve(import.meta.dirname, '..')

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0) })
    })
  })
}

t.test('the Dockerfile copies only files that exist and runs the compiled CLI', async (t) => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8')
  const sources = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/))
  t.ok(sources.length >= 5, 'COPY lines found')
  for (const s of sources) t.ok(existsSync(path.join(root, s)), `${s} exists`)
  t.match(dockerfile, /CMD \["node", "dist\/src\/cli\.js", "serve"\]/)
  t.match(dockerfile, /^USER gateway$/m, 'runs as a non-root user')
  t.match(dockerfile, /HEALTHCHECK .*CMD \["node", "dist\/src\/healthcheck\.js"\]/s, 'the TLS-aware health check')
  t.equal([...dockerfile.matchAll(/^COPY .*public \.\/public$/gm)].length, 2, 'the console page in both stages')
  t.ok((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] }).files.includes('public'), 'and in the npm package')
  const unit = readFileSync(path.join(root, 'docker/3cx-gateway.service'), 'utf8')
  for (const directive of ['User=', 'Restart=on-failure', 'EnvironmentFile=', 'NoNewPrivileges=true', 'ProtectSystem=strict']) t.match(unit, directive)
  t.match(unit, /ExecStart=\/usr\/bin\/node \/opt\/3cx-gateway\/dist\/src\/cli\.js serve/)
  // The gateway's own stop limit stays below its supervisor's (systemd 30 s, compose 30 s): it names what hung.
  t.match(unit, /^TimeoutStopSec=30$/m)
  t.match(unit, /^Environment=.* SHUTDOWN_TIMEOUT_MS=25000$/m)
  for (const compose of ['docker/compose.yml', 'docker/compose.ha.yml']) {
    const text = readFileSync(path.join(root, compose), 'utf8')
    t.match(text, /stop_grace_period: 30s/, compose)
    t.match(text, /SHUTDOWN_TIMEOUT_MS: "25000"/, compose)
  }
  t.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m, 'systemctl reload sends SIGHUP, which the gateway survives (test/serve-sighup.test.ts)')
})

/**
 * Writes what `npm run build` (tsc -p tsconfig.build.json) emits: every .ts file its include names, as
 * .js under outDir at its path from rootDir. Each file is transpiled alone, by the test loader's esbuild
 * with its cache (scripts/ts-loader-hooks.mjs, already filled by tap's before step): with isolatedModules
 * that is what tsc emits file by file, and tsc's acceptance of the code is npm test's type check.
 * tsc itself cost this test 7-13 s of CPU (its whole program, --noCheck or not) for the same files.
 */
async function compileAsTheImage (outDir: string): Promise<void> {
  const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { extends: string, include: string[], exclude: string[] }
  const base = JSON.parse(readFileSync(path.join(root, build.extends), 'utf8')) as { compilerOptions: { rootDir: string, outDir: string, isolatedModules: boolean } }
  // The layout the Dockerfile and the systemd unit run (dist/src/cli.js), and the guarantee used here.
  if (base.compilerOptions.rootDir !== '.' || base.compilerOptions.outDir !== 'dist' || !base.compilerOptions.isolatedModules) {
    throw new Error('tsconfig.json: rootDir ".", outDir "dist" and isolatedModules are what this test (and dist/src/cli.js) assume')
  }
  const files = globSync(build.include.map((d) => `${d}/**/*.{ts,mts}`), { cwd: root, posix: true, ignore: ['**/*.d.ts', '**/*.d.mts', ...build.exclude.map((d) => `${d}/**`)] })
  await Promise.all(files.map(async (file) => {
    const code = await compiled(pathToFileURL(path.join(root, file)).href, await readFile(path.join(root, file), 'utf8'))
    const target = path.join(outDir, file.replace(/\.(m?)ts$/, '.$1js'))
    await mkdir(path.dirname(target), { recursive: true })
    await writeFile(target, code)
  }))
}

t.test('a production install starts in demo mode and answers the legacy API', async (t) => {
  // Outside the project: Node looks for a package in every node_modules up the path, so an install
  // under the project's tree found the project's dev dependencies, and a production import of one passed.
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-production-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  // The compiled output as the image lays it out (tsconfig.build.json), written into the temp copy.
  const written = compileAsTheImage(path.join(dir, 'dist'))
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'))
  // The console's static page, as the image and the npm package ship it next to dist/.
  cpSync(path.join(root, 'public'), path.join(dir, 'public'), { recursive: true })
  copyFileSync(path.join(root, 'package-lock.json'), path.join(dir, 'package-lock.json'))
  // Hard links: a fast copy of the installed tree; pruning removes links, never the originals. The real
  // path: in a git worktree node_modules may be a symlink, whose copy would point at the original tree.
  // While the sources are written (they are read from the original tree, not this copy).
  // A temp folder on another file system cannot take hard links: copied then (slower, same result).
  const tree = realpathSync(path.join(root, 'node_modules'))
  const installed = run('cp', ['-al', tree, path.join(dir, 'node_modules')])
    .catch(async () => { rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true }); return await run('cp', ['-a', tree, path.join(dir, 'node_modules')]) })
    .then(async () => await run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, env: { ...process.env, npm_config_loglevel: 'error' } }))
  await Promise.all([written, installed])
  t.notOk(existsSync(path.join(dir, 'node_modules/typescript')), 'dev dependencies are gone')
  t.notOk(existsSync(path.join(dir, 'node_modules/tap')), 'tap is gone')

  const port = await freePort()
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), DATA_DIR: path.join(dir, 'data'), DEMO_TRAFFIC: '0', LOG_LEVEL: 'info' }
  const child = spawn(process.execPath, ['dist/src/cli.js', 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  let answer: { status: number, body: string } | null = null
  // Up to 60 s: this checks the package, not the start-up speed (bench's figure), and a loaded CI machine is slow.
  const deadline = Date.now() + 60_000
  while (answer === null && Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/webapi/demo/pbx.calls.get`)
      answer = { status: res.status, body: await res.text() }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  t.same(answer, { status: 200, body: '{"result":0}' }, `answers from the production install (log: ${output.slice(0, 300)})`)
  // The start line is written after the port opens, and may reach the pipe after the first answer.
  await until(() => output.includes('DEMO MODE'), 10_000, 'the demo start line')
  t.match(output, /DEMO MODE/)
  const health = await run(process.execPath, ['dist/src/healthcheck.js'], { cwd: dir, env }).then(() => 0, (err: { code?: number }) => err.code ?? -1)
  t.equal(health, 0, 'the compiled Docker health check passes')
  const page = await fetch(`http://127.0.0.1:${port}/console/`)
  t.equal(page.status, 200, 'the console page is served from public/ next to dist/')
  t.match(await page.text(), /3cx-gateway console/)

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM shuts down cleanly with exit code 0')
  t.match(output, /shutdown complete/)
})
