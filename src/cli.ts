#!/usr/bin/env node
// 3cx-gateway command line: serve (default) | sim | doctor | export | recordings convert | config check.
import { randomBytes } from 'node:crypto'
import nodeModule from 'node:module'
import dotenv from 'dotenv'
import { ConfigError, describeConfig, loadConfig, type Config, type LoadOptions } from './config.js'
import { applyLegacyIni } from './legacy-ini.js'
import { VERSION } from './version.js'
import { COMMANDS, commandHelp, findCommand, parseCommandLine, topLevelHelp, UsageError, type CliCommand } from './cli-help.js'
import { simTlsFrom, type SimTlsFlags } from './sim/sim-tls-options.js'
import type { TenantDefinition } from './tenants/tenants-file.js'
import type { Simulator } from './sim/simulator.js'

interface Io { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }

/** Loads .env (quietly), the legacy ini if CONFIG_INI is set, and validates. Exits 2 on problems. */
export function configFromEnvironment (io: Io, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config | null {
  dotenv.config({ quiet: true })
  try {
    return loadConfig(applyLegacyIni(env), opts)
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write('3cx-gateway: the configuration has problems:\n')
      for (const p of err.problems) io.stderr.write(`  - ${p}\n`)
      io.stderr.write('Fix them in the environment or in .env (see .env.example), then start again.\n')
      return null
    }
    io.stderr.write(`3cx-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
    return null
  }
}

/** `argv` → the command it names and the arguments after the command's name, or a usage mistake. */
function resolveCommand (argv: string[]): { command: CliCommand, rest: string[] } | UsageError {
  const [first = 'serve', ...rest] = argv
  if (first.startsWith('-')) return new UsageError(`unknown flag "${first}" (flags come after the command, e.g. 3cx-gateway sim --port 5001)`)
  // `sim snapshot` before `sim`: a command's sub-command wins over the command with a positional.
  const pair = rest[0] === undefined ? undefined : findCommand(`${first} ${rest[0]}`)
  if (pair !== undefined) return { command: pair, rest: rest.slice(1) }
  const single = findCommand(first)
  if (single !== undefined) return { command: single, rest }
  // Two-word commands: `recordings convert`, `config check`; `recordings --help` shows the one it has.
  const family = COMMANDS.filter((c) => c.name.startsWith(`${first} `))
  if (family.length === 0) return new UsageError(`unknown command "${first}"`)
  const [sub, ...subRest] = rest
  const found = family.find((c) => c.name === `${first} ${sub}`)
  if (found !== undefined) return { command: found, rest: subRest }
  if (sub === '--help' || sub === '-h') return { command: family[0], rest }
  return new UsageError(sub === undefined
    ? `"${first}" needs a sub-command: ${family.map((c) => c.name).join(' or ')}`
    : `unknown command "${first} ${sub}"; did you mean ${family.map((c) => c.name).join(' or ')}?`)
}

export async function main (argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [first] = argv
  if (first === '--help' || first === '-h' || first === 'help') { io.stdout.write(`${topLevelHelp()}\n`); return 0 }
  if (first === '--version' || first === '-v') { io.stdout.write(`${VERSION}\n`); return 0 }

  const resolved = resolveCommand(argv)
  if (resolved instanceof UsageError) {
    // A known family (`recordings list`): that family's help; anything else: the overview.
    const family = COMMANDS.find((c) => first !== undefined && c.name.startsWith(`${first} `))
    io.stderr.write(`3cx-gateway: ${resolved.message}\n\n${family !== undefined ? commandHelp(family) : topLevelHelp()}\n`)
    return 2
  }
  const { command, rest } = resolved
  let parsed
  try {
    parsed = parseCommandLine(command, rest)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`3cx-gateway ${command.name}: ${err.message}\n\n${commandHelp(command)}\n`)
    return 2
  }
  if (parsed.help) { io.stdout.write(`${commandHelp(command)}\n`); return 0 }

  switch (command.name) {
    case 'serve': {
      dotenv.config({ quiet: true })
      // With DATABASE_URL the tenants table may name the PBXs and their keys: GATEWAY_KEYS is then asked for only without tenants.
      const maybeTable = (process.env.DATABASE_URL ?? '') !== '' && (process.env.GATEWAY_KEYS ?? '') === '' && (process.env.TENANTS_FILE ?? '') === ''
      let config = configFromEnvironment(io, process.env, { serving: !maybeTable })
      if (config === null) return 2
      const { startGateway } = await import('./server.js')
      const { ListenError } = await import('./port-probe.js')
      const { PbxDefinitionError } = await import('./sim/pbx-definition.js')
      try {
        const tenants = await tenantsToServe(config, io)
        if (tenants === null) return 2
        // Nothing in the environment names a PBX (no PBX_URL, GATEWAY_KEYS or TENANTS_FILE): the tenants
        // table is the source even while it is empty, followed as when it has tenants (before, an empty
        // table started the demo gateway, which never noticed the tenants added later).
        const tableOnly = maybeTable && (process.env.PBX_URL ?? '') === ''
        if (tenants.length === 0 && maybeTable && !tableOnly) config = configFromEnvironment(io)
        if (config === null) return 2
        const gw = tenants.length > 0 || tableOnly ? await (await import('./tenants/tenant-gateway.js')).startTenantGateway(config, tenants, { source: await tenantSource(config) }) : await startGateway(config)
        gw.installSignalHandlers()
      } catch (err) {
        // A taken port, or a SIM_PBX file that is not a valid PBX (demo mode): one sentence, no stack.
        if (!(err instanceof ListenError) && !(err instanceof PbxDefinitionError)) throw err
        io.stderr.write(`3cx-gateway: ${err.message}\n`)
        return 1
      }
      return -1 // keep running
    }
    case 'sim': return await runSim(parsed.values as SimFlags, io)
    case 'sim snapshot': return await (await import('./sim/pbx-snapshot.js')).runSnapshot(rest, io)
    case 'doctor': {
      const config = configFromEnvironment(io, process.env, { serving: false })
      if (config === null) return 2
      const { runDoctor } = await import('./doctor.js')
      const print = (line: string): void => { io.stdout.write(`${line}\n`) }
      return await onPbx(config, io, async (c) => await runDoctor(c, print))
    }
    case 'export': {
      const config = configFromEnvironment(io, process.env, { serving: false })
      if (config === null) return 2
      // The arguments first: a bad date is one error line, without starting demo mode's simulator.
      const { prepareExport } = await import('./reports/export-command.js')
      const exportTo = prepareExport(config, rest, io)
      return typeof exportTo === 'number' ? exportTo : await onPbx(config, io, exportTo)
    }
    case 'recordings convert': {
      const config = configFromEnvironment(io, process.env, { serving: false })
      if (config === null) return 2
      const { runRecordingsConvert } = await import('./recordings/convert-command.js')
      return await runRecordingsConvert(config, rest, io)
    }
    case 'tenants add':
    case 'tenants list':
    case 'tenants remove':
    case 'tenants rotate-key': {
      const config = configFromEnvironment(io, process.env, { serving: false })
      if (config === null) return 2
      const { runTenantsCommand } = await import('./tenants/tenants-command.js')
      const { openTenantsTable } = await import('./services.js')
      return await runTenantsCommand(command.name, config, parsed, io, openTenantsTable)
    }
    case 'config check': {
      const config = configFromEnvironment(io)
      if (config === null) return 2
      // TENANTS_FILE is checked too: every tenant with its PBX and how many keys and targets (no secrets).
      let tenants: TenantDefinition[] = []
      if (config.tenantsFile !== null) {
        const found = await tenantsToServe(config, io)
        if (found === null) return 2
        tenants = found
      }
      const described = describeConfig(config)
      const shown = tenants.length === 0 ? described : { ...described, tenants: tenants.map((x) => ({ id: x.id, pbx: x.pbx.url, clientId: x.pbx.clientId, keys: x.keys.map((k) => k.scope), webhooks: x.webhooks.map((w) => w.name) })) }
      io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`)
      return 0
    }
    default:
      throw new Error(`command "${command.name}" is listed in cli-help.ts but has no case here`)
  }
}

/**
 * The tenants to serve: TENANTS_FILE's, else (with DATABASE_URL) the tenants table's; none = the one
 * PBX of the environment. Problems are printed like the environment's: null (exit 2).
 */
async function tenantsToServe (config: Config, io: Io): Promise<TenantDefinition[] | null> {
  const { loadTenantsFile } = await import('./tenants/tenants-file.js')
  const { definitionsFromTable } = await import('./tenants/tenants-command.js')
  try {
    if (config.tenantsFile !== null) return loadTenantsFile(config.tenantsFile)
    if (config.databaseUrl === null) return []
    const { openTenantsTable } = await import('./services.js')
    const table = await openTenantsTable(config.databaseUrl, false)
    try {
      return definitionsFromTable(await table.list())
    } finally {
      await table.close()
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    io.stderr.write(`3cx-gateway: the tenants have problems:\n${err.problems.map((p) => `  - ${p}\n`).join('')}`)
    return null
  }
}

/** Where the served tenants' changes come from: TENANTS_FILE (read again on SIGHUP), else the tenants table (notified, polled). */
async function tenantSource (config: Config): Promise<import('./tenants/tenant-reload.js').TenantSource> {
  const { tenantsFileSource, tenantsTableSource } = await import('./tenants/tenant-reload.js')
  if (config.tenantsFile !== null) return tenantsFileSource(config.tenantsFile)
  const { openTenantsTable } = await import('./services.js')
  return tenantsTableSource(await openTenantsTable(config.databaseUrl as string, false))
}

/** Runs a PBX command against the configured PBX, or in demo mode against a fresh built-in simulator. */
async function onPbx (config: Config, io: Io, run: (config: Config) => Promise<number>): Promise<number> {
  if (config.tenantsFile !== null && config.pbx.url === '') {
    // One PBX at a time: without PBX_URL there is nothing to check or export from.
    io.stderr.write('3cx-gateway: this command works on one PBX and TENANTS_FILE lists several; set PBX_URL, PBX_CLIENT_ID and PBX_CLIENT_SECRET to the tenant\'s PBX for this run\n')
    return 2
  }
  if (!config.demo) return await run(config)
  const { withDemoPbx } = await import('./demo-simulator.js')
  return await withDemoPbx(config, (line) => { io.stderr.write(`${line}\n`) }, run)
}

/** The flags of `sim`, as declared in cli-help.ts. */
export interface SimFlags extends SimTlsFlags { port?: string, host?: string, recordings?: string, seed?: string, pbx?: string, state?: string }

/** `sim`: runs the simulator until SIGINT/SIGTERM (-1: the process lives on), or an exit code. */
async function runSim (values: SimFlags, io: Io): Promise<number> {
  const sim = await startSim(values, io)
  if (typeof sim === 'number') return sim
  const stop = (): void => { sim.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return -1
}

/**
 * Starts the simulator the flags describe and prints how to connect a gateway to it; an exit code
 * instead when a flag is wrong (2) or the port is taken (1). Exported for the tests.
 */
export async function startSim (values: SimFlags, io: Io): Promise<Simulator | number> {
  const port = Number(values.port ?? '5001')
  const seed = Number(values.seed ?? '1')
  if (!Number.isInteger(port) || port < 0 || port > 65535) { io.stderr.write('3cx-gateway sim: --port must be 0–65535\n'); return 2 }
  if (!Number.isInteger(seed)) { io.stderr.write('3cx-gateway sim: --seed must be a whole number\n'); return 2 }
  const host = values.host ?? '127.0.0.1'
  const { tls, error } = await simTlsFrom(values, host)
  if (error !== undefined) { io.stderr.write(`3cx-gateway sim: ${error}\n`); return 2 }
  const { assertPortFree, ListenError } = await import('./port-probe.js')
  try {
    await assertPortFree(host, port, '--port')
  } catch (err) {
    if (!(err instanceof ListenError)) throw err
    io.stderr.write(`3cx-gateway sim: ${err.message}\n`)
    return 1
  }
  const { createSimulator } = await import('./sim/simulator.js')
  const { gatewayCommand } = await import('./demo-simulator.js')
  const { simulatorFileOptions } = await import('./sim/pbx-definition.js')
  const { default: pino } = await import('pino')
  const { logDestination } = await import('./log-format.js')
  let files
  try { files = simulatorFileOptions(values) } catch (err) { io.stderr.write(`3cx-gateway sim: ${(err as Error).message}\n`); return 2 }
  const sim = await createSimulator({ port, host, recordingsDir: values.recordings, seed, tls, ...files, logger: pino({ level: process.env.LOG_LEVEL ?? 'info' }, logDestination(process.env.LOG_FORMAT === 'json' || process.env.LOG_FORMAT === 'pretty' ? process.env.LOG_FORMAT : 'auto')) })
  // The described PBX's first API client (the built-in PBX's is 599 / sim-secret).
  const SEED_CLIENT = { clientId: sim.ctx.directory.apiClients[0].clientId, secret: sim.ctx.directory.apiClients[0].secret }
  io.stdout.write([
    `3CX V20 simulator listening on ${sim.url}`,
    `  API client: PBX_CLIENT_ID=${SEED_CLIENT.clientId} PBX_CLIENT_SECRET=${SEED_CLIENT.secret} (simulator credentials, not a secret)`,
    `  recordings: ${sim.ctx.recordingsDir}`,
    ...(tls === undefined ? [] : ['  TLS: https and wss on this port; a generated certificate is self-signed (see docs/simulator.md "TLS")']),
    `  control API: POST ${sim.url}/_sim/calls, /_sim/traffic, /_sim/faults, /_sim/reset; GET /_sim/events`,
    '  start a gateway connected to it (in the project folder; when installed, "3cx-gateway serve" instead of "npm start"):',
    `    ${gatewayCommand(sim.url, SEED_CLIENT, randomBytes(16).toString('hex'))}`,
    ''
  ].join('\n'))
  return sim
}

// Run when executed directly (bin or `node dist/src/cli.js`), not when imported by tests.
const invokedDirectly = process.argv[1] !== undefined && /cli\.(js|ts)$/.test(process.argv[1])
if (invokedDirectly) {
  // Node ≥ 22.1 (the Docker image's): V8's compiled code of every module the command loads is kept on
  // disk (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE) and reused by the next start; loading
  // the demo gateway's modules took 350 → 250 ms on Node 24 (issue 16). Node 20 has no such cache.
  // Nothing is thrown when the folder cannot be written: the start goes on without it.
  ;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()
  main(process.argv.slice(2)).then(
    (code) => { if (code >= 0) process.exitCode = code },
    (err: unknown) => {
      process.stderr.write(`3cx-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    }
  )
}
