#!/usr/bin/env node
// 3cx-gateway command line: serve (default) | sim | doctor | export | recordings convert | config check.
import { parseArgs } from 'node:util'
import dotenv from 'dotenv'
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js'
import { applyLegacyIni } from './legacy-ini.js'
import { VERSION } from './version.js'

const HELP = `3cx-gateway ${VERSION} — legacy 3CX WebAPI, webhooks, MP3 recordings and reports for 3CX V20

Usage:
  3cx-gateway [serve]                 start the gateway (demo mode with a built-in simulator when PBX_URL is unset)
  3cx-gateway sim [--port 5001] [--host 127.0.0.1] [--recordings DIR] [--seed N] [--pbx FILE] [--state FILE]
                                      run the 3CX V20 simulator alone (a PBX described in FILE)
  3cx-gateway sim snapshot --out FILE [--url URL --client-id ID --secret S] [--keep-names]
                                      write a PBX definition read from a PBX's XAPI
  3cx-gateway doctor                  check the configured PBX step by step
  3cx-gateway export <history|calllog|abandoned|queueperf|recordings> --from DATE --to DATE
                     [--queue N] [--ext N] [--wait S] [--format json|csv|xlsx] [--out FILE]
  3cx-gateway recordings convert <dir>   convert an archive of 3CX WAV recordings to MP3
  3cx-gateway config check            print the effective configuration (secrets masked)
  3cx-gateway --version | --help

Configuration comes from the environment and a .env file in the working directory; see .env.example.`

interface Io { stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }

/** Loads .env (quietly), the legacy ini if CONFIG_INI is set, and validates. Exits 2 on problems. */
export function configFromEnvironment (io: Io, env: NodeJS.ProcessEnv = process.env): Config | null {
  dotenv.config({ quiet: true })
  try {
    return loadConfig(applyLegacyIni(env))
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

export async function main (argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command = 'serve', ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') { io.stdout.write(`${HELP}\n`); return 0 }
  if (command === '--version' || command === '-v') { io.stdout.write(`${VERSION}\n`); return 0 }

  switch (command) {
    case 'serve': {
      const config = configFromEnvironment(io)
      if (config === null) return 2
      const { startGateway } = await import('./server.js')
      const gw = await startGateway(config)
      gw.installSignalHandlers()
      return -1 // keep running
    }
    case 'sim': return rest[0] === 'snapshot' ? await (await import('./sim/pbx-snapshot.js')).runSnapshot(rest.slice(1), io) : await runSim(rest, io)
    case 'doctor': {
      const config = configFromEnvironment(io)
      if (config === null) return 2
      if (config.demo) {
        io.stderr.write('doctor checks a real PBX: set PBX_URL, PBX_CLIENT_ID and PBX_CLIENT_SECRET first.\n')
        return 2
      }
      const { runDoctor } = await import('./doctor.js')
      return await runDoctor(config, (line) => { io.stdout.write(`${line}\n`) })
    }
    case 'export': {
      const config = configFromEnvironment(io)
      if (config === null) return 2
      const { runExport } = await import('./reports/export-command.js')
      return await runExport(config, rest, io)
    }
    case 'recordings': {
      if (rest[0] !== 'convert') { io.stderr.write('usage: 3cx-gateway recordings convert <dir>\n'); return 2 }
      const config = configFromEnvironment(io)
      if (config === null) return 2
      const { runRecordingsConvert } = await import('./recordings/convert-command.js')
      return await runRecordingsConvert(config, rest.slice(1), io)
    }
    case 'config': {
      if (rest[0] !== 'check') { io.stderr.write('usage: 3cx-gateway config check\n'); return 2 }
      const config = configFromEnvironment(io)
      if (config === null) return 2
      io.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`)
      return 0
    }
    default:
      io.stderr.write(`3cx-gateway: unknown command "${command}"\n\n${HELP}\n`)
      return 2
  }
}

async function runSim (args: string[], io: Io): Promise<number> {
  let values: { port?: string, host?: string, recordings?: string, seed?: string, pbx?: string, state?: string }
  try {
    values = parseArgs({
      args,
      options: { port: { type: 'string' }, host: { type: 'string' }, recordings: { type: 'string' }, seed: { type: 'string' }, pbx: { type: 'string' }, state: { type: 'string' } },
      strict: true
    }).values
  } catch (err) {
    io.stderr.write(`3cx-gateway sim: ${(err as Error).message}\n`)
    return 2
  }
  const port = Number(values.port ?? '5001')
  const seed = Number(values.seed ?? '1')
  if (!Number.isInteger(port) || port < 0 || port > 65535) { io.stderr.write('3cx-gateway sim: --port must be 0–65535\n'); return 2 }
  if (!Number.isInteger(seed)) { io.stderr.write('3cx-gateway sim: --seed must be a whole number\n'); return 2 }
  const { createSimulator } = await import('./sim/simulator.js')
  const { simulatorFileOptions } = await import('./sim/pbx-definition.js')
  const { default: pino } = await import('pino')
  let files
  try { files = simulatorFileOptions(values) } catch (err) { io.stderr.write(`3cx-gateway sim: ${(err as Error).message}\n`); return 2 }
  const sim = await createSimulator({ port, host: values.host ?? '127.0.0.1', recordingsDir: values.recordings, seed, logger: pino({ level: process.env.LOG_LEVEL ?? 'info' }), ...files })
  const SEED_CLIENT = { clientId: sim.ctx.directory.apiClients[0].clientId, secret: sim.ctx.directory.apiClients[0].secret }
  io.stdout.write([
    `3CX V20 simulator listening on ${sim.url}`,
    `  API client: PBX_CLIENT_ID=${SEED_CLIENT.clientId} PBX_CLIENT_SECRET=${SEED_CLIENT.secret} (simulator credentials, not a secret)`,
    `  recordings: ${sim.ctx.recordingsDir}`,
    `  control API: POST ${sim.url}/_sim/calls, /_sim/traffic, /_sim/faults, /_sim/reset; GET /_sim/events`,
    `  point the gateway at it: PBX_URL=${sim.url} PBX_CLIENT_ID=${SEED_CLIENT.clientId} PBX_CLIENT_SECRET=${SEED_CLIENT.secret}`,
    ''
  ].join('\n'))
  const stop = (): void => { sim.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return -1
}

// Run when executed directly (bin or `node dist/src/cli.js`), not when imported by tests.
const invokedDirectly = process.argv[1] !== undefined && /cli\.(js|ts)$/.test(process.argv[1])
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => { if (code >= 0) process.exitCode = code },
    (err: unknown) => {
      process.stderr.write(`3cx-gateway: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    }
  )
}
